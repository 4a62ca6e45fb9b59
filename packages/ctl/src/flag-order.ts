/**
 * etcdctl's reading of a command's arguments (urfave/cli's argument reordering): only a word that
 * names one of the command's flags is a flag, wherever it stands; any other word is an argument,
 * even one starting with `-` (`set /n -5`, `set /k -bar` store `-5` and `-bar`). A flag given twice
 * takes its last value. oclif would refuse both, so the words are put in the order oclif reads
 * that way: flags first, then `--`, then the arguments.
 */

/** What the reordering needs to know of one flag (a subset of oclif's flag definition). */
export interface FlagShape {
  type: 'boolean' | 'option';
  char?: string;
  aliases?: string[];
  charAliases?: string[];
  allowNo?: boolean;
  multiple?: boolean;
}

interface Known {
  name: string;
  takesValue: boolean;
  multiple: boolean;
}

/** Every spelling (`--name`, `--alias`, `-c`, `--no-name`) of the given flags, to its flag. */
function spellings(flags: Record<string, FlagShape>): Map<string, Known> {
  const known = new Map<string, Known>();
  for (const [name, f] of Object.entries(flags)) {
    const k: Known = { name, takesValue: f.type === 'option', multiple: f.multiple === true };
    known.set(`--${name}`, k);
    for (const a of f.aliases ?? []) known.set(`--${a}`, k);
    for (const c of [f.char, ...(f.charAliases ?? [])]) if (c !== undefined) known.set(`-${c}`, k);
    if (f.allowNo === true) known.set(`--no-${name}`, { ...k, takesValue: false });
  }
  return known;
}

/** The flag a word spells, and its value when written in the same word (`--ttl=5`, `-ojson`). */
function flagOf(word: string, known: Map<string, Known>): { flag: Known; inline: boolean } | undefined {
  const eq = word.indexOf('=');
  const head = eq > 0 ? word.slice(0, eq) : word;
  const flag = known.get(head);
  if (flag !== undefined) return { flag, inline: eq > 0 };
  // oclif's attached short value: `-ojson`.
  if (/^-[^-]/.test(word) && word.length > 2) {
    const short = known.get(word.slice(0, 2));
    if (short?.takesValue === true) return { flag: short, inline: true };
  }
  return undefined;
}

/**
 * argv with every flag of `flags` first (a flag given twice once, with its last value, unless it
 * may be repeated) and the arguments after a `--`, in their order. A word starting with `-` that
 * is no flag of the command is an argument while the command has room for one (`slots`, counted
 * after the plain words); past that it stays where oclif reports it as an unknown flag, which
 * says more than "unexpected argument". A flag left without its value, and anything after a `--`
 * in argv, are left as they are.
 */
export function etcdctlFlagOrder(argv: readonly string[], flags: Record<string, FlagShape>, slots = Infinity): string[] {
  const known = spellings(flags);
  const dashes = argv.indexOf('--');
  const own = dashes < 0 ? argv : argv.slice(0, dashes);
  const after = dashes < 0 ? [] : argv.slice(dashes + 1);
  const given: { flag: Known | undefined; words: string[] }[] = [];
  const words: { text: string; unknownFlag: boolean }[] = [];
  for (let i = 0; i < own.length; i++) {
    const word = own[i]!;
    const found = word.startsWith('-') && word !== '-' ? flagOf(word, known) : undefined;
    if (found === undefined) {
      words.push({ text: word, unknownFlag: word.startsWith('-') && word !== '-' });
      continue;
    }
    // A flag that needs a value takes the next word, whatever it is (Go's flag package does too).
    if (found.flag.takesValue && !found.inline) {
      if (i + 1 >= own.length) return [...argv];
      given.push({ flag: found.flag, words: [word, own[++i]!] });
    } else {
      given.push({ flag: found.flag, words: [word] });
    }
  }
  let room = slots - after.length - words.filter((w) => !w.unknownFlag).length;
  const args: string[] = [];
  for (const w of words) {
    if (!w.unknownFlag) args.push(w.text);
    else if (room-- > 0) args.push(w.text);
    else given.push({ flag: undefined, words: [w.text] });
  }
  args.push(...after);
  const last = new Map<string, number>();
  given.forEach((g, n) => { if (g.flag) last.set(g.flag.name, n); });
  const flagWords = given.filter((g, n) => g.flag === undefined || g.flag.multiple || last.get(g.flag.name) === n).flatMap((g) => g.words);
  return args.length === 0 ? flagWords : [...flagWords, '--', ...args];
}
