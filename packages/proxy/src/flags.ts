/**
 * A small flag parser for the proxy: Go-style and GNU-style spellings (`-name x`, `--name=x`), values
 * from `<PREFIX>_<FLAG>` environment variables for flags not on the command line, then defaults.
 * Problems are {@link ProxyConfigError}s with a message meant for the user.
 */
import { envName, envNames } from '@deimos/protocol';

/** One flag's definition (structurally compatible with the server's flag specs). */
export interface FlagSpec {
  name: string;
  aliases?: string[];
  kind: 'string' | 'boolean' | 'integer';
  defaultValue?: string;
  description: string;
  /** Not taken from the environment (help, version). */
  noEnv?: boolean;
}

/** A bad command line or environment value. */
export class ProxyConfigError extends Error {
  readonly code = 'ERR_BAD_FLAG';
  constructor(message: string) {
    super(message);
    this.name = 'ProxyConfigError';
  }
}

/** Parsed flag values by canonical name. */
export type FlagValues = Map<string, string | boolean>;

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export { envName, envNames };

function convert(spec: FlagSpec, raw: string, origin: string): string | boolean {
  if (spec.kind === 'boolean') {
    if (TRUE_WORDS.has(raw)) return true;
    if (FALSE_WORDS.has(raw)) return false;
    throw new ProxyConfigError(`invalid boolean value "${raw}" for ${origin}`);
  }
  if (spec.kind === 'integer' && !/^\d+$/.test(raw)) throw new ProxyConfigError(`invalid integer value "${raw}" for ${origin}`);
  return raw;
}

/**
 * Parses `argv` against `specs`. Flags in `tolerated` (e.g. a member's flags when `deimos --proxy`
 * runs this code) are accepted and ignored; only `specs` are read from the environment.
 */
export function parseFlags(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  envPrefix: string,
  tolerated: readonly FlagSpec[] = [],
  /** A second prefix read after `envPrefix` (`deimos --proxy` reads etcd's `ETCD_*` names too, as a member does). */
  fallbackPrefix?: string,
): FlagValues {
  const byName = new Map<string, { spec: FlagSpec; own: boolean }>();
  for (const [list, own] of [[tolerated, false], [specs, true]] as const) {
    for (const spec of list) for (const n of [spec.name, ...(spec.aliases ?? [])]) byName.set(n, { spec, own });
  }
  const values: FlagValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') throw new ProxyConfigError(`unexpected argument: ${arg} (see --help)`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const found = byName.get(name);
    if (!found) throw new ProxyConfigError(`unknown flag: ${arg} (see --help)`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (found.spec.kind === 'boolean') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new ProxyConfigError(`flag --${name} needs a value`);
      raw = argv[++i]!;
    }
    if (!found.own) continue;
    // Given again: the last value wins, as with Go's flag package (and so etcd).
    values.set(found.spec.name, convert(found.spec, raw, `flag --${name}`));
  }
  for (const spec of specs) {
    if (values.has(spec.name)) continue;
    // Every name the flag takes has a variable, its main name's first (see @deimos/protocol envNames).
    const names = spec.noEnv ? [] : [...envNames(envPrefix, spec), ...(fallbackPrefix !== undefined ? envNames(fallbackPrefix, spec) : [])];
    const variable = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (variable !== undefined) values.set(spec.name, convert(spec, env[variable]!, `environment variable ${variable}`));
    else if (spec.defaultValue !== undefined) values.set(spec.name, convert(spec, spec.defaultValue, `default of --${spec.name}`));
  }
  return values;
}

/** Renders `--help`: every flag with aliases, default and environment variable. */
export function renderHelp(title: string, usage: string, specs: readonly FlagSpec[], envPrefix: string): string {
  const lines = [title, '', `Usage: ${usage}`, '', 'Flags (also settable as environment variables):'];
  for (const spec of specs) {
    const names = [spec.name, ...(spec.aliases ?? [])].map((n) => `--${n}`).join(', ');
    lines.push(`  ${names}${spec.kind === 'boolean' ? '' : ' <value>'}`, `      ${spec.description}`);
    const extra: string[] = [];
    if (spec.defaultValue) extra.push(`default: ${spec.defaultValue}`);
    if (!spec.noEnv) extra.push(`env: ${envNames(envPrefix, spec).join(' or ')}`);
    if (extra.length > 0) lines.push(`      (${extra.join('; ')})`);
  }
  return `${lines.join('\n')}\n`;
}
