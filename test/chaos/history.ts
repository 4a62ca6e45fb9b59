/**
 * The recorder of a chaos run's history: clients call `invoke` before sending a request and
 * `complete` when they learn its outcome, producing operations in the checker's format.
 */
import type { History, Operation, OperationInput, OperationKind, OperationOutput, Outcome } from './checker/index.js';

/** Collects the operations of every client of one run. */
export class HistoryRecorder {
  private readonly ops: Operation[] = [];
  private readonly originMs = performance.now();
  private nextId = 1;

  /** Milliseconds since the recorder was created (the history's shared monotonic clock). */
  nowMs(): number {
    return Math.round((performance.now() - this.originMs) * 1000) / 1000;
  }

  /** Records the start of an operation; returns it so the client can complete it. */
  invoke(clientId: number, key: string, kind: OperationKind, input: OperationInput): Operation {
    const op: Operation = { id: this.nextId++, clientId, key, kind, input, invokeMs: this.nowMs(), completeMs: undefined, outcome: 'unknown' };
    this.ops.push(op);
    return op;
  }

  /** Records what the client learned. An `unknown` outcome keeps no completion time. */
  complete(op: Operation, outcome: Outcome, output?: OperationOutput): void {
    op.outcome = outcome;
    op.completeMs = outcome === 'unknown' ? undefined : Math.max(this.nowMs(), op.invokeMs);
    if (output !== undefined) op.output = output;
  }

  /** The history so far (operations still in flight read as `unknown`). */
  history(): History {
    return this.ops;
  }

  /** Counts of outcomes per kind, e.g. `{ 'read:ok': 120 }`, for the run report. */
  tally(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const op of this.ops) counts[`${op.kind}:${op.outcome}`] = (counts[`${op.kind}:${op.outcome}`] ?? 0) + 1;
    return counts;
  }
}
