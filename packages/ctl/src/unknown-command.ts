/**
 * The message for a command line that names no command: an unknown flag in front (`--bogus get`),
 * a global flag without its value, or a mistyped command with the closest ones suggested, in the
 * user's words (`member ad`), never oclif's internal id (`member:ad`).
 */

/** What bin/run.js knows when oclif found no command: the argv it ran, the command ids and topics. */
export interface UnknownCommandInput {
  argv: readonly string[];
  /** oclif command ids (`get`, `member:add`). */
  commandIds: readonly string[];
  /** Global flags that take a value (`--endpoints`). */
  valueFlags: ReadonlySet<string>;
}

/** The one-line error (without `Error:  `) for a command line oclif could not dispatch. */
export function unknownCommandMessage(input: UnknownCommandInput): string {
  const first = input.argv[0] ?? '';
  if (first.startsWith('-')) {
    const name = first.includes('=') ? first.slice(0, first.indexOf('=')) : first;
    if (input.valueFlags.has(name)) return `flag needs a value: ${name}`;
    return `unknown flag: ${name} (see 'deimosctl --help')`;
  }
  const ids = input.commandIds.map((id) => id.split(':'));
  const topics = new Set(ids.filter((p) => p.length > 1).map((p) => p[0]!));
  const words = input.argv.filter((a) => !a.startsWith('-'));
  const typed = topics.has(words[0] ?? '') && words.length > 1 ? [words[0]!, words[1]!] : [words[0] ?? ''];
  const wanted = typed.join(' ');
  // The mistyped word is the last one: compared with the names it could have meant at its level.
  const word = typed.at(-1)!;
  const close = ids
    .filter((p) => p.length === typed.length && (typed.length === 1 || p[0] === typed[0]))
    .map((p) => ({ s: p.join(' '), d: editDistance(p.at(-1)!, word), prefix: word !== '' && p.at(-1)!.startsWith(word) }))
    .filter(({ d, prefix }) => d <= Math.max(1, Math.floor(word.length / 3)) || prefix)
    .sort((a, b) => a.d - b.d || a.s.localeCompare(b.s))
    .map(({ s }) => `"${s}"`);
  const suggestion = close.length > 0 ? `; did you mean ${close.slice(0, 3).join(' or ')}?` : '';
  return `unknown command "${wanted}"${suggestion} (see 'deimosctl --help')`;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
