/**
 * The linearizability checker: splits a history per key (operations on different keys are
 * independent, so the history is linearizable iff every key's sub-history is) and searches each
 * key for a linearization with a bounded step budget.
 */
import { InvalidHistoryError, validateOperation, type History, type Operation } from './history.js';
import { explainViolation } from './explain-violation.js';
import { compileOperation, ValueTable, type ModelOp } from './register-model.js';
import { searchLinearization, type SearchVerdict } from './wgl-search.js';

/** Options of {@link checkLinearizability}. */
export interface CheckOptions {
  /** Search steps allowed per key (and per probe while explaining); default 10,000,000 (~10-15 s). */
  maxStepsPerPartition?: number;
  /** Values the keys held before the history began; keys not listed start missing. */
  initialValues?: Readonly<Record<string, string>>;
  /** Whether to explain violations (costs up to 4 more budgets per failing key); default true. */
  explain?: boolean;
}

/** The verdict for one key. */
export interface PartitionResult {
  key: string;
  /** True only when a linearization was found. */
  ok: boolean;
  verdict: SearchVerdict;
  opsCount: number;
  steps: number;
  /** Why the key is not linearizable, or why the search gave up. */
  explanation?: string;
}

/** The verdict for a whole history. */
export interface LinearizabilityResult {
  /** True only when every key is linearizable. */
  ok: boolean;
  /** `unknown` when no key is violated but some search ran out of budget. */
  verdict: 'linearizable' | 'violation' | 'unknown';
  partitions: PartitionResult[];
}

/** The default step budget per key. */
export const DEFAULT_MAX_STEPS_PER_PARTITION = 10_000_000;

/** Checks that `history` is linearizable with respect to an etcd v2 register per key. */
export function checkLinearizability(history: History, options: CheckOptions = {}): LinearizabilityResult {
  const maxSteps = options.maxStepsPerPartition ?? DEFAULT_MAX_STEPS_PER_PARTITION;
  const ids = new Set<number>();
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    validateOperation(op);
    if (ids.has(op.id)) throw new InvalidHistoryError(`operation ${op.id}: duplicate id`);
    ids.add(op.id);
    let ops = byKey.get(op.key);
    if (ops === undefined) {
      ops = [];
      byKey.set(op.key, ops);
    }
    ops.push(op);
  }
  const partitions = [...byKey.keys()].sort().map((key) =>
    checkPartition(key, byKey.get(key) as Operation[], options.initialValues?.[key] ?? null, maxSteps, options.explain ?? true));
  const violated = partitions.some((p) => p.verdict === 'violation');
  const undecided = partitions.some((p) => p.verdict === 'timeout');
  return {
    ok: !violated && !undecided,
    verdict: violated ? 'violation' : undecided ? 'unknown' : 'linearizable',
    partitions,
  };
}

function checkPartition(key: string, ops: Operation[], initialValue: string | null, maxSteps: number, explain: boolean): PartitionResult {
  const table = new ValueTable();
  const initialState = table.intern(initialValue);
  const models = ops.map((op) => compileOperation(op, table)).filter((m): m is ModelOp => m !== undefined);
  const result = searchLinearization(models, initialState, maxSteps);
  const base = { key, ok: result.verdict === 'linearizable', verdict: result.verdict, opsCount: ops.length, steps: result.steps };
  if (result.verdict === 'timeout') {
    return { ...base, explanation: `key ${key}: undecided; the search gave up after ${maxSteps} steps over ${ops.length} operations.` };
  }
  if (result.verdict === 'violation' && explain) {
    return { ...base, explanation: explainViolation({ key, models, totalOps: ops.length, table, initialState, maxSteps }) };
  }
  return base;
}

/** A multi-line human-readable report of a check: one line per key, explanations indented. */
export function formatLinearizabilityResult(result: LinearizabilityResult): string {
  const lines = [`verdict: ${result.verdict} (${result.partitions.length} keys)`];
  for (const p of result.partitions) {
    lines.push(`  ${p.key}: ${p.verdict}, ${p.opsCount} operations, ${p.steps} steps`);
    if (p.explanation !== undefined) lines.push(...p.explanation.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}
