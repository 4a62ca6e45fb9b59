/** An in-memory duplex pair: what one side writes, the other reads (a socketpair without the kernel). */
import { Duplex } from 'node:stream';

/** Two connected in-memory duplex streams. */
/** Holds back what is written towards one side of a {@link duplexPair} until released. */
export class Gate {
  private held: Buffer[] | undefined;
  constructor(private deliver: (chunk: Buffer) => void = () => {}) {}
  /** @internal */
  connect(deliver: (chunk: Buffer) => void): void {
    this.deliver = deliver;
  }
  /** @internal */
  pass(chunk: Buffer): void {
    if (this.held !== undefined) this.held.push(chunk);
    else this.deliver(chunk);
  }
  /** Starts holding. */
  hold(): void {
    this.held ??= [];
  }
  /** Delivers what was held, in order, and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const c of held) this.deliver(c);
  }
}

/**
 * Holds back the write callbacks of the side it is given to while closed, so that side's
 * `writableLength` grows as a real socket's does when its peer stops reading.
 */
export class Valve {
  private held: Array<() => void> | undefined;
  /** @internal */
  pass(deliver: () => void): void {
    if (this.held !== undefined) this.held.push(deliver);
    else deliver();
  }
  close(): void {
    this.held ??= [];
  }
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const d of held) d();
  }
}

export function duplexPair(toB?: Gate, valveToB?: Valve): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex): Duplex => new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      peer().push(chunk);
      done();
    },
    final(done) {
      peer().push(null);
      done();
    },
    destroy(err, done) {
      // A socketpair: closing one end closes the other.
      if (!peer().destroyed) peer().destroy();
      done(err);
    },
  });
  a = make(() => b);
  b = make(() => a);
  if (valveToB !== undefined) {
    a._write = (chunk: Buffer, _enc, done) => valveToB.pass(() => {
      b.push(chunk);
      done();
    });
  }
  if (toB !== undefined) {
    toB.connect((chunk) => b.push(chunk));
    // What `a` writes goes through the gate.
    a._write = (chunk: Buffer, _enc, done) => {
      toB.pass(chunk);
      done();
    };
  }
  return [a, b];
}

/** Resolves once `check` holds, polling every few ms, or rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
