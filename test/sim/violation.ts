/** The error a simulation run fails with when a safety or liveness property does not hold. */

/** Names of the properties the simulator checks. */
export type Invariant =
  | 'election-safety'
  | 'vote-once-per-term'
  | 'hard-state-monotonic'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'committed-entry-lost'
  | 'apply-order'
  | 'ready-contract'
  | 'snapshot-consistency'
  | 'linearizable-read'
  | 'liveness'
  | 'core-threw';

/** A property of the consensus core did not hold; `invariant` is stable, the message has the detail. */
export class InvariantViolation extends Error {
  readonly code = 'ERR_SIM_INVARIANT';

  constructor(readonly invariant: Invariant, detail: string) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

/** Throws an {@link InvariantViolation} when `condition` is false. */
export function check(condition: boolean, invariant: Invariant, detail: () => string): asserts condition {
  if (!condition) throw new InvariantViolation(invariant, detail());
}
