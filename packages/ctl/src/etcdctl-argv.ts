/**
 * etcdctl's help and version conventions on top of oclif's: `-h`/`--help` anywhere, `help [command]`,
 * and `-v`/`--version` in front of everything.
 */

/**
 * argv rewritten for oclif: `help get` becomes `get --help`, `-h` becomes `--help`, and a leading
 * `-v` becomes `--version`. Nothing after a `--` is touched (it belongs to a child command).
 */
export function etcdctlArgv(argv: readonly string[]): string[] {
  const dashes = argv.indexOf('--');
  let own = dashes < 0 ? [...argv] : argv.slice(0, dashes);
  const rest = dashes < 0 ? [] : argv.slice(dashes);
  if (own[0] === 'help') own = [...own.slice(1), '--help'];
  if (own[0] === '-v') own[0] = '--version';
  own = own.map((a) => (a === '-h' ? '--help' : a));
  // One --help is enough (`help get --help`), and it goes after the command words.
  if (own.includes('--help')) own = [...own.filter((a) => a !== '--help'), '--help'];
  return [...own, ...rest];
}
