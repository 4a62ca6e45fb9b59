/**
 * The history model of the chaos suite: one record per client operation on a register-like key of
 * the etcd v2 keyspace, with the real-time interval the client saw and what it learned.
 */

/**
 * What the client learned about an operation's end: `ok` (applied, result known), `fail` (a
 * definite error such as 100/101/105), or `unknown` (timeout, connection lost: it may or may not
 * have taken effect, at any time after its invocation).
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** The operation kinds the chaos clients issue. */
export type OperationKind = 'read' | 'write' | 'cas' | 'delete' | 'create';

/** Arguments of an operation: `value` for write/cas/create, `expected` (prevValue) for cas. */
export interface OperationInput {
  value?: string;
  expected?: string;
}

/**
 * What came back: `value` for a successful read (`null` when the key was missing), `errorCode` for a
 * `fail` outcome (etcd's code: 100 key not found, 101 compare failed, 105 node exists).
 */
export interface OperationOutput {
  value?: string | null;
  errorCode?: number;
}

/** One client operation on one key, as recorded by a chaos client. */
export interface Operation {
  /** Unique within the history. */
  id: number;
  clientId: string | number;
  key: string;
  kind: OperationKind;
  input: OperationInput;
  /** When the client sent the request (any monotonic millisecond clock shared by all clients). */
  invokeMs: number;
  /** When the response arrived; `undefined` for `unknown` outcomes (treated as +infinity). */
  completeMs: number | undefined;
  outcome: Outcome;
  output?: OperationOutput;
}

/** A recorded history: operations in any order. */
export type History = readonly Operation[];

/** An operational error: a history record that cannot be interpreted. */
export class InvalidHistoryError extends Error {
  /** Stable code for `code` checks. */
  readonly code = 'EINVALIDHISTORY';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidHistoryError';
  }
}

const kinds: ReadonlySet<string> = new Set<OperationKind>(['read', 'write', 'cas', 'delete', 'create']);
const outcomes: ReadonlySet<string> = new Set<Outcome>(['ok', 'fail', 'unknown']);

/** Throws an {@link InvalidHistoryError} unless `op` is a well-formed operation record. */
export function validateOperation(op: Operation): void {
  const where = `operation ${String(op.id)}`;
  const fail = (what: string): never => {
    throw new InvalidHistoryError(`${where}: ${what}`);
  };
  if (!Number.isSafeInteger(op.id)) fail('id must be an integer');
  if (typeof op.clientId !== 'string' && typeof op.clientId !== 'number') fail('clientId must be a string or number');
  if (typeof op.key !== 'string') fail('key must be a string');
  if (!kinds.has(op.kind)) fail(`unknown kind ${JSON.stringify(op.kind)}`);
  if (!outcomes.has(op.outcome)) fail(`unknown outcome ${JSON.stringify(op.outcome)}`);
  if (typeof op.input !== 'object' || op.input === null) fail('input must be an object');
  if (!Number.isFinite(op.invokeMs)) fail('invokeMs must be a finite number');
  if (op.kind === 'write' || op.kind === 'cas' || op.kind === 'create') {
    if (typeof op.input.value !== 'string') fail(`${op.kind} needs input.value`);
  }
  if (op.kind === 'cas' && typeof op.input.expected !== 'string') fail('cas needs input.expected');
  if (op.outcome === 'unknown') return;
  if (op.completeMs === undefined || !Number.isFinite(op.completeMs)) fail(`an ${op.outcome} outcome needs completeMs`);
  if ((op.completeMs as number) < op.invokeMs) fail('completeMs is before invokeMs');
  if (op.outcome === 'fail' && typeof op.output?.errorCode !== 'number') fail('a fail outcome needs output.errorCode');
  if (op.kind === 'read' && op.outcome === 'ok') {
    const value = op.output?.value;
    if (value !== null && typeof value !== 'string') fail('an ok read needs output.value (string or null)');
  }
}

/** A short human-readable rendering of a value: quoted, or `missing` for an absent key. */
export function formatValue(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'missing';
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** One line describing an operation, e.g. `#12 c3 cas(k, 'a' -> 'b') = ok at [100, 130]ms`. */
export function describeOperation(op: Operation): string {
  const key = op.key;
  let call: string;
  switch (op.kind) {
    case 'read': call = `read(${key})`; break;
    case 'write': call = `write(${key}, ${formatValue(op.input.value)})`; break;
    case 'cas': call = `cas(${key}, ${formatValue(op.input.expected)} -> ${formatValue(op.input.value)})`; break;
    case 'delete': call = `delete(${key})`; break;
    case 'create': call = `create(${key}, ${formatValue(op.input.value)})`; break;
  }
  let result: string;
  if (op.outcome === 'unknown') result = 'unknown';
  else if (op.outcome === 'fail') result = `fail(${String(op.output?.errorCode)})`;
  else if (op.kind === 'read') result = formatValue(op.output?.value);
  else result = 'ok';
  const end = op.outcome === 'unknown' ? 'inf)' : `${String(op.completeMs)}]`;
  return `#${op.id} c${String(op.clientId)} ${call} = ${result} at [${op.invokeMs}, ${end}ms`;
}
