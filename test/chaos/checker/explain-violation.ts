/**
 * Human-readable explanations of a non-linearizable key: the smallest failing prefix of the history,
 * the operation whose result breaks it, and the operations involved.
 *
 * Prefix P(n): the first n definite operations by completion time, plus every other operation
 * invoked by the n-th completion as pending (it may or may not have taken effect). If P(n) has no
 * linearization neither has any longer prefix, so a binary search finds the smallest n; the n-th
 * operation is the first whose result cannot be explained.
 */
import { describeOperation, formatValue, type Operation } from './history.js';
import { KEEP, REQUIRE_EQUAL, type ModelOp, type ValueTable } from './register-model.js';
import { searchLinearization } from './wgl-search.js';

/** What {@link explainViolation} needs to know about one key. */
export interface ViolationContext {
  key: string;
  /** The compiled operations of the key that constrain the search. */
  models: readonly ModelOp[];
  totalOps: number;
  table: ValueTable;
  initialState: number;
  maxSteps: number;
}

const maxListedOps = 12;
/** The explanation may spend this many partition budgets on its probes. */
const maxProbeBudgets = 4;

/** Explains why the operations of one key have no linearization (which the caller established). */
export function explainViolation(ctx: ViolationContext): string {
  const definite = ctx.models.filter((m) => m.definite)
    .sort((a, b) => a.completeMs - b.completeMs || a.op.id - b.op.id);
  let lo = 1;
  let hi = definite.length;
  let budget = ctx.maxSteps * maxProbeBudgets;
  while (lo < hi && budget > 0) {
    const mid = Math.floor((lo + hi) / 2);
    const probe = searchLinearization(prefix(ctx.models, definite, mid), ctx.initialState, Math.min(budget, ctx.maxSteps));
    budget -= probe.steps;
    // A timed-out probe counts as passing, so `hi` always names a prefix proven to fail.
    if (probe.verdict === 'violation') hi = mid;
    else lo = mid + 1;
  }
  const minimal = lo === hi ? 'smallest failing prefix' : 'shortest failing prefix found (search budget spent)';
  const culprit = definite[hi - 1];
  if (culprit === undefined) return `key ${ctx.key}: not linearizable (no definite operations?)`;
  const models = prefix(ctx.models, definite, hi);
  const lines = [
    `key ${ctx.key}: not linearizable; the ${minimal} ends when #${culprit.op.id} completes ` +
      `at ${culprit.completeMs}ms (${models.length} of ${ctx.totalOps} operations, ${hi - 1} completed before it).`,
  ];
  const reason = explainCulprit(ctx, models, culprit);
  lines.push(reason.text, 'operations involved:');
  for (const op of involvedOperations(models, culprit, reason.related)) lines.push(`  ${describeOperation(op)}`);
  return lines.join('\n');
}

/** The operations of P(n): see the module comment. */
function prefix(models: readonly ModelOp[], definite: readonly ModelOp[], n: number): ModelOp[] {
  const complete = new Set(definite.slice(0, n));
  const endMs = (definite[n - 1] as ModelOp).completeMs;
  const out: ModelOp[] = [];
  for (const m of models) {
    if (complete.has(m)) out.push(m);
    else if (m.invokeMs <= endMs && m.effect !== KEEP) out.push({ ...m, definite: false, completeMs: Infinity });
  }
  return out;
}

interface Reason {
  text: string;
  related: ModelOp[];
}

interface Writer {
  invokeMs: number;
  completeMs: number;
  model?: ModelOp;
}

function explainCulprit(ctx: ViolationContext, models: readonly ModelOp[], culprit: ModelOp): Reason {
  const what = describeOperation(culprit.op);
  const generic: Reason = {
    text: `${what} cannot be placed: no order of these operations agrees with their results and their real-time order.`,
    related: [],
  };
  if (culprit.require !== REQUIRE_EQUAL) return generic;
  const seen = culprit.requireValue;
  const seenText = formatValue(ctx.table.valueOf(seen));
  const writersOfSeen = writersOf(ctx, models, seen);
  if (writersOfSeen.length === 0) {
    return { text: `${what} observed ${seenText}, a value no operation that could precede it ever wrote.`, related: [] };
  }
  const latestSeenWrite = Math.max(...writersOfSeen.map((w) => w.completeMs));
  // The latest witness is the most telling: the value the key had just before the culprit began.
  let best: { witness: ModelOp; after: number; writers: Writer[] } | undefined;
  for (const witness of models) {
    if (!witness.definite || witness.completeMs >= culprit.invokeMs) continue;
    if (best !== undefined && witness.completeMs <= best.witness.completeMs) continue;
    const after = stateAfter(witness);
    if (after === undefined || after === seen) continue;
    const writers = writersOf(ctx, models, after);
    if (writers.length === 0 || latestSeenWrite >= Math.min(...writers.map((w) => w.invokeMs))) continue;
    best = { witness, after, writers };
  }
  if (best !== undefined) {
    const afterText = formatValue(ctx.table.valueOf(best.after));
    const how = best.witness.effect === KEEP ? `observed ${afterText}` : `written ${afterText}`;
    return {
      text: `${what} observed ${seenText}, but ${describeOperation(best.witness.op)} had already ${how} before it began, ` +
        `and every write of ${seenText} completed before any write of ${afterText} began: ` +
        `${seenText} had definitely been overwritten (stale read, lost write or non-monotonic order).`,
      related: [best.witness, ...[...writersOfSeen, ...best.writers].flatMap((w) => (w.model ? [w.model] : []))],
    };
  }
  return { ...generic, related: writersOfSeen.flatMap((w) => (w.model ? [w.model] : [])) };
}

/** The state an operation leaves behind if it is definite, or `undefined` if that is not one value. */
function stateAfter(m: ModelOp): number | undefined {
  if (m.effect !== KEEP) return m.effect;
  return m.require === REQUIRE_EQUAL ? m.requireValue : undefined;
}

/** Every way the key could come to hold `state`, including the initial state (at -infinity). */
function writersOf(ctx: ViolationContext, models: readonly ModelOp[], state: number): Writer[] {
  const out: Writer[] = models.filter((m) => m.effect === state)
    .map((m) => ({ invokeMs: m.invokeMs, completeMs: m.completeMs, model: m }));
  if (ctx.initialState === state) out.push({ invokeMs: -Infinity, completeMs: -Infinity });
  return out;
}

/** The culprit, the operations behind the reason, its concurrent ones and its latest predecessors. */
function involvedOperations(models: readonly ModelOp[], culprit: ModelOp, related: readonly ModelOp[]): Operation[] {
  const picked = new Set<ModelOp>([culprit, ...related]);
  const before = models.filter((m) => m.definite && m.completeMs < culprit.invokeMs);
  for (const m of before) {
    if (!before.some((other) => m.completeMs < other.invokeMs)) picked.add(m);
  }
  // Operations overlapping the culprit; pending ones only if they began shortly before it, since an
  // operation still pending from long ago is concurrent with everything and tells little.
  const recentMs = culprit.invokeMs - (culprit.completeMs - culprit.invokeMs) * 2;
  for (const m of models) {
    if (m.invokeMs > culprit.completeMs || m.completeMs < culprit.invokeMs) continue;
    if (m.definite || m.invokeMs >= recentMs) picked.add(m);
  }
  const ops = [...picked].map((m) => m.op).sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
  if (ops.length <= maxListedOps) return ops;
  const keep = new Set<Operation>([culprit, ...related].map((m) => m.op));
  return ops.filter((op) => keep.has(op)).concat(ops.filter((op) => !keep.has(op)))
    .slice(0, maxListedOps).sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
}
