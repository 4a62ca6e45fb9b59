/**
 * The lost-write check against a cluster's final state.
 *
 * Rule, per key touched by a mutation: let A be the acknowledged (`ok`) mutations of the key
 * (write, successful cas/create/delete). A mutation in A is *known overwritten* when another
 * mutation in A was invoked after it completed (real time forces it later). The final value must be
 * the result of some mutation in A that is not known overwritten, or of some `unknown` mutation
 * (it may have been applied at any time, even last); with A empty, the initial value is allowed too.
 * A delete's result is "missing". Definite failures never change the key and play no part.
 */
import { isDefiniteErrorCode } from './register-model.js';
import { describeOperation, formatValue, type History, type Operation } from './history.js';

/** A finding of {@link checkNoLostWrites} for one key. */
export interface LostWriteProblem {
  key: string;
  finalValue: string | null;
  /** The values the rule allows. */
  allowed: (string | null)[];
  message: string;
}

/** The verdict of {@link checkNoLostWrites}. */
export interface LostWritesResult {
  ok: boolean;
  problems: LostWriteProblem[];
}

/** Options of {@link checkNoLostWrites}. */
export interface NoLostWritesOptions {
  /** Values the keys held before the history began; keys not listed start missing. */
  initialValues?: Readonly<Record<string, string>>;
}

/**
 * Checks the final state (key -> value; absent or `null` = missing) against the mutations in
 * `history`; reads and definite failures in it are ignored. See the module comment for the rule.
 */
export function checkNoLostWrites(
  history: History,
  finalState: ReadonlyMap<string, string | null> | Readonly<Record<string, string | null>>,
  options: NoLostWritesOptions = {},
): LostWritesResult {
  const finalOf = (key: string): string | null =>
    (finalState instanceof Map ? finalState.get(key) : (finalState as Record<string, string | null>)[key]) ?? null;
  const byKey = new Map<string, { acked: Operation[]; unknown: Operation[] }>();
  for (const op of history) {
    if (op.kind === 'read') continue;
    const definiteFailure = op.outcome === 'fail' && isDefiniteErrorCode(op.output?.errorCode);
    if (definiteFailure) continue;
    let entry = byKey.get(op.key);
    if (entry === undefined) {
      entry = { acked: [], unknown: [] };
      byKey.set(op.key, entry);
    }
    (op.outcome === 'ok' ? entry.acked : entry.unknown).push(op);
  }
  const problems: LostWriteProblem[] = [];
  for (const [key, { acked, unknown }] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const survivors = acked.filter((op) => !acked.some((later) => (op.completeMs as number) < later.invokeMs));
    const allowed = new Set<string | null>([...survivors, ...unknown].map(resultOf));
    if (acked.length === 0) allowed.add(options.initialValues?.[key] ?? null);
    const finalValue = finalOf(key);
    if (allowed.has(finalValue)) continue;
    const last = survivors.map(describeOperation).join('; ');
    problems.push({
      key,
      finalValue,
      allowed: [...allowed],
      message: `key ${key} ends as ${formatValue(finalValue)}, but it must hold the result of a write not known ` +
        `to be overwritten: ${acked.length > 0 ? last : 'the initial value'}` +
        (unknown.length > 0 ? ` (or of one of ${unknown.length} unknown mutations)` : ''),
    });
  }
  return { ok: problems.length === 0, problems };
}

function resultOf(op: Operation): string | null {
  return op.kind === 'delete' ? null : (op.input.value ?? null);
}
