/** The arbitrary of one hostile step: keys requests most often, then members, stats, info and raw framing. */
import fc from 'fast-check';
import { RawStep, type HostileStep } from './hostile-request.js';
import { infoRequestArb, statsRequestArb } from './info-arbitrary.js';
import { keysRequestArb } from './keys-arbitrary.js';
import { membersRequestArb } from './members-arbitrary.js';
import { RAW_FRAMING_CASES } from './raw-framing-cases.js';

/** A step aimed at one of `members` members; `raw` false leaves the raw framing cases out. */
export function stepArb(members: number, raw = true): fc.Arbitrary<HostileStep> {
  const rawWeight = raw ? 1 : 0;
  return fc.oneof(
    { weight: 10, arbitrary: keysRequestArb(members) },
    { weight: 3, arbitrary: membersRequestArb(members) },
    { weight: 2, arbitrary: statsRequestArb(members) },
    { weight: 2, arbitrary: infoRequestArb(members) },
    { weight: rawWeight, arbitrary: fc.tuple(fc.nat(members - 1), fc.constantFrom(...RAW_FRAMING_CASES)).map(([m, c]) => new RawStep(m, c)) },
  );
}
