/**
 * History serialisation as JSON lines (one operation per line), so that a failing chaos run can
 * save its history and have it re-checked offline.
 */
import { InvalidHistoryError, validateOperation, type History, type Operation } from './history.js';

/** Encodes a history as JSON lines; an unknown completion is written as `"completeMs":null`. */
export function saveHistory(history: History): string {
  return history.map((op) => JSON.stringify(toRecord(op))).join('\n') + (history.length > 0 ? '\n' : '');
}

/** Decodes {@link saveHistory} output; throws an {@link InvalidHistoryError} naming the bad line. */
export function loadHistory(text: string): Operation[] {
  const out: Operation[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new InvalidHistoryError(`line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new InvalidHistoryError(`line ${i + 1}: not an object`);
    }
    const op = fromRecord(record as Record<string, unknown>);
    try {
      validateOperation(op);
    } catch (err) {
      if (err instanceof InvalidHistoryError) throw new InvalidHistoryError(`line ${i + 1}: ${err.message}`);
      throw err;
    }
    out.push(op);
  }
  return out;
}

function toRecord(op: Operation): Record<string, unknown> {
  const record: Record<string, unknown> = {
    id: op.id,
    clientId: op.clientId,
    key: op.key,
    kind: op.kind,
    input: op.input,
    invokeMs: op.invokeMs,
    completeMs: op.completeMs ?? null,
    outcome: op.outcome,
  };
  if (op.output !== undefined) record['output'] = op.output;
  return record;
}

function fromRecord(r: Record<string, unknown>): Operation {
  const op = {
    id: r['id'],
    clientId: r['clientId'],
    key: r['key'],
    kind: r['kind'],
    input: r['input'] ?? {},
    invokeMs: r['invokeMs'],
    completeMs: r['completeMs'] === null ? undefined : r['completeMs'],
    outcome: r['outcome'],
  } as Operation;
  if (r['output'] !== undefined && r['output'] !== null) op.output = r['output'] as Operation['output'];
  return op;
}
