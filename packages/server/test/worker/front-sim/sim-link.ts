/**
 * A channel between the primary and a worker as the simulation sees it: an in-memory socketpair
 * whose bytes, in each direction, arrive cut into seeded pieces, each after a seeded number of
 * event-loop turns, in order (a stream socket reorders nothing, but it cuts and delays anything).
 */
import type { Duplex } from 'node:stream';
import { duplexPair } from '../support.js';
import { FrontRng, turns } from './sim-rng.js';

/** How a link cuts and delays what crosses it. */
export interface LinkShape {
  /** Most pieces one write is cut into. */
  maxPieces: number;
  /** Most turns a piece waits before it arrives. */
  maxDelayTurns: number;
}

/** One direction: pieces delivered strictly in order, each after its delay. */
class Direction {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly rng: FrontRng, private readonly shape: LinkShape, private readonly deliver: (chunk: Buffer | null) => void) {}

  send(chunk: Buffer): void {
    const cuts = new Set<number>();
    const pieces = 1 + this.rng.int(this.shape.maxPieces);
    for (let i = 1; i < pieces && chunk.length > 1; i++) cuts.add(1 + this.rng.int(chunk.length - 1));
    let from = 0;
    for (const at of [...cuts].sort((a, b) => a - b).concat(chunk.length)) {
      const piece = chunk.subarray(from, at);
      from = at;
      const delay = this.rng.int(this.shape.maxDelayTurns + 1);
      this.chain = this.chain.then(() => turns(delay)).then(() => this.deliver(piece));
    }
  }

  end(): void {
    this.chain = this.chain.then(() => this.deliver(null));
  }
}

/** Two connected ends (primary side, worker side); destroying either breaks both at once. */
export function simLink(rng: FrontRng, shape: LinkShape): [Duplex, Duplex] {
  const [a, b] = duplexPair();
  // What each end writes crosses its own direction of the link; a crash (destroy) still loses
  // whatever was in flight, as duplexPair's socketpair does.
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const direction = new Direction(rng, shape, (chunk) => {
      if (!to.destroyed) to.push(chunk);
    });
    from._write = (chunk: Buffer, _enc, done) => {
      direction.send(chunk);
      done();
    };
    from._final = (done) => {
      direction.end();
      done();
    };
  }
  return [a, b];
}
