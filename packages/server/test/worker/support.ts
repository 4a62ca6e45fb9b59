/** An in-memory duplex pair: what one side writes, the other reads (a socketpair without the kernel). */
import { Duplex } from 'node:stream';

/** Two connected in-memory duplex streams. */
export function duplexPair(): [Duplex, Duplex] {
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
