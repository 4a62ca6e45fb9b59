/** Terse construction of hand-written histories for the checker tests. */
import type { Operation, OperationInput, Outcome } from '../chaos/checker/index.js';

/** Result of a mutation in a hand-written history: ok, a definite error code, or unknown. */
export type Result = 'ok' | 'unknown' | 100 | 101 | 105;

/** Builds operations with consecutive ids on key `k` unless told otherwise. */
export class HistoryBuilder {
  readonly ops: Operation[] = [];

  /** A read returning `value` (`null` = missing, as a 100 error), or with an unknown outcome. */
  read(client: number, invokeMs: number, completeMs: number, value: string | null | 'unknown', key = 'k'): Operation {
    if (value === 'unknown') return this.add(client, key, 'read', {}, invokeMs, completeMs, 'unknown');
    if (value === null) return this.add(client, key, 'read', {}, invokeMs, completeMs, 100);
    return this.add(client, key, 'read', {}, invokeMs, completeMs, 'ok', value);
  }

  write(client: number, invokeMs: number, completeMs: number, value: string, result: Result = 'ok', key = 'k'): Operation {
    return this.add(client, key, 'write', { value }, invokeMs, completeMs, result);
  }

  cas(client: number, invokeMs: number, completeMs: number, expected: string, value: string, result: Result = 'ok', key = 'k'): Operation {
    return this.add(client, key, 'cas', { expected, value }, invokeMs, completeMs, result);
  }

  delete(client: number, invokeMs: number, completeMs: number, result: Result = 'ok', key = 'k'): Operation {
    return this.add(client, key, 'delete', {}, invokeMs, completeMs, result);
  }

  create(client: number, invokeMs: number, completeMs: number, value: string, result: Result = 'ok', key = 'k'): Operation {
    return this.add(client, key, 'create', { value }, invokeMs, completeMs, result);
  }

  private add(client: number, key: string, kind: Operation['kind'], input: OperationInput, invokeMs: number,
    completeMs: number, result: Result, readValue?: string): Operation {
    const outcome: Outcome = result === 'ok' || result === 'unknown' ? result : 'fail';
    const op: Operation = {
      id: this.ops.length + 1,
      clientId: client,
      key,
      kind,
      input,
      invokeMs,
      completeMs: outcome === 'unknown' ? undefined : completeMs,
      outcome,
    };
    if (outcome === 'fail') op.output = { errorCode: result as number };
    else if (kind === 'read' && outcome === 'ok') op.output = { value: readValue ?? null };
    this.ops.push(op);
    return op;
  }
}
