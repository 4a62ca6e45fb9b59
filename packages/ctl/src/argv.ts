/**
 * etcdctl takes global flags before the command (`etcdctl -o json get /foo`); oclif only after the
 * command id. This moves leading global flags to the end of the command's own arguments.
 */

/** Global flags that take a value (in the `--flag value` form). */
export const VALUE_FLAGS: ReadonlySet<string> = new Set(['--endpoints', '--endpoint', '--peers', '-C', '--output', '-o', '--timeout', '--total-timeout', '--ca-file', '--cert-file', '--key-file', '--username', '-u']);
/** Global boolean flags. */
const BOOLEAN_FLAGS = new Set(['--sync', '--no-sync', '--color', '--no-color', '--debug']);

/** Returns argv with leading global flags moved after the command and its arguments (before any `--`). */
export function globalFlagsLast(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (BOOLEAN_FLAGS.has(arg)) {
      leading.push(arg);
      i += 1;
    } else if (VALUE_FLAGS.has(name)) {
      const takesNext = name === arg && i + 1 < argv.length;
      leading.push(...(takesNext ? [arg, argv[i + 1]!] : [arg]));
      i += takesNext ? 2 : 1;
    } else if (/^-o./.test(arg)) {
      leading.push(arg); // -ojson
      i += 1;
    } else {
      break;
    }
  }
  if (leading.length === 0) return [...argv];
  const rest = argv.slice(i);
  if (rest.length === 0) return [...leading];
  const dashes = rest.indexOf('--');
  return dashes < 0 ? [...rest, ...leading] : [...rest.slice(0, dashes), ...leading, ...rest.slice(dashes)];
}
