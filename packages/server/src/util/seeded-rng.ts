/** A small seeded PRNG (xorshift32) for the raft core's randomized election timeouts. */
import { randomInt } from 'node:crypto';
import type { Rng } from '@deimos/raft';

/** Seeds from the OS unless a seed is given. */
export function seededRng(seed: number = randomInt(1, 0x7fffffff)): Rng {
  let x = seed >>> 0 || 1;
  return {
    nextInt(n: number): number {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % n;
    },
  };
}
