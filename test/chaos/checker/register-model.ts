/**
 * The sequential specification of one etcd v2 key as a register whose state is a value or
 * "missing", compiled to integer transitions so that the search compares numbers, not strings.
 */
import type { Operation } from './history.js';

/** State id of a missing key. */
export const MISSING = 0;

/** Any state satisfies the precondition. */
export const REQUIRE_ANY = 0;
/** The state must equal `requireValue`. */
export const REQUIRE_EQUAL = 1;
/** The key must exist and its value must differ from `requireValue` (`MISSING` = merely exist). */
export const REQUIRE_PRESENT_NOT_EQUAL = 2;

/** Leaves the state as it was. */
export const KEEP = -1;

/** Interns register values as small integers; `null` (missing) is always {@link MISSING}. */
export class ValueTable {
  private readonly ids = new Map<string, number>();
  private readonly values: (string | null)[] = [null];

  /** The id of `value`, allocating one on first sight. */
  intern(value: string | null): number {
    if (value === null) return MISSING;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  /** The value interned as `id`. */
  valueOf(id: number): string | null {
    const value = this.values[id];
    if (value === undefined) throw new Error(`assertion failed: no value with id ${id}`);
    return value;
  }
}

/**
 * One operation as the search sees it: a precondition on the state, an effect, and an interval.
 * Optional operations (those that may or may not have happened) carry `completeMs = Infinity`.
 */
export interface ModelOp {
  op: Operation;
  definite: boolean;
  invokeMs: number;
  completeMs: number;
  require: number;
  requireValue: number;
  /** The new state id, or {@link KEEP}. */
  effect: number;
}

/** Applies `m` to `state`: the next state, or -1 when `m` cannot happen in `state`. */
export function stepModel(m: ModelOp, state: number): number {
  if (m.require === REQUIRE_EQUAL) {
    if (state !== m.requireValue) return -1;
  } else if (m.require === REQUIRE_PRESENT_NOT_EQUAL) {
    if (state === MISSING || state === m.requireValue) return -1;
  }
  return m.effect === KEEP ? state : m.effect;
}

/**
 * Error codes below 300 (store and validation errors) are decided before or at apply time without
 * changing the key, so the operation definitely did not take effect; 3xx (raft/cluster) errors and
 * a missing code may hide a committed proposal, so such failures are treated as `unknown`.
 */
export function isDefiniteErrorCode(code: number | undefined): boolean {
  return code !== undefined && code < 300;
}

type Spec = { require: number; requireValue: number; effect: number };

/**
 * What an operation tells about the register. Returns `undefined` when it constrains nothing: an
 * unknown read, or an operation that definitely failed without observing the key.
 * An unknown mutation is compiled as its successful variant and made optional: "it happened and
 * failed" leaves the state as "it never happened" does, so omission covers that branch.
 */
export function compileOperation(op: Operation, table: ValueTable): ModelOp | undefined {
  let outcome = op.outcome;
  if (outcome === 'fail' && !isDefiniteErrorCode(op.output?.errorCode)) outcome = 'unknown';
  const spec = outcome === 'fail' ? failureSpec(op, table) : successSpec(op, table);
  if (spec === undefined) return undefined;
  const definite = outcome !== 'unknown';
  if (!definite && (op.kind === 'read' || spec.effect === KEEP)) return undefined;
  return {
    op,
    definite,
    invokeMs: op.invokeMs,
    completeMs: definite ? (op.completeMs as number) : Infinity,
    ...spec,
  };
}

function successSpec(op: Operation, table: ValueTable): Spec | undefined {
  const value = op.input.value ?? null;
  switch (op.kind) {
    case 'read':
      return { require: REQUIRE_EQUAL, requireValue: table.intern(op.output?.value ?? null), effect: KEEP };
    case 'write':
      return { require: REQUIRE_ANY, requireValue: MISSING, effect: table.intern(value) };
    case 'cas':
      return { require: REQUIRE_EQUAL, requireValue: table.intern(op.input.expected ?? null), effect: table.intern(value) };
    case 'delete':
      return { require: REQUIRE_PRESENT_NOT_EQUAL, requireValue: MISSING, effect: MISSING };
    case 'create':
      return { require: REQUIRE_EQUAL, requireValue: MISSING, effect: table.intern(value) };
  }
}

function failureSpec(op: Operation, table: ValueTable): Spec | undefined {
  const code = op.output?.errorCode;
  const missing = { require: REQUIRE_EQUAL, requireValue: MISSING, effect: KEEP };
  switch (op.kind) {
    case 'read':
    case 'delete':
      return code === 100 ? missing : undefined;
    case 'cas':
      if (code === 100) return missing;
      if (code === 101) {
        return { require: REQUIRE_PRESENT_NOT_EQUAL, requireValue: table.intern(op.input.expected ?? null), effect: KEEP };
      }
      return undefined;
    case 'create':
      return code === 105 ? { require: REQUIRE_PRESENT_NOT_EQUAL, requireValue: MISSING, effect: KEEP } : undefined;
    case 'write':
      return undefined;
  }
}
