/**
 * A small command-line flag parser that accepts both Go-style (`-name x`, `-name=x`) and GNU-style
 * (`--name x`, `--name=x`) spellings, fills unset flags from `<PREFIX>_<FLAG>` environment variables,
 * and reports every problem as a {@link FlagError} (never a stack trace). A flag given more than once
 * takes its last value, as Go's flag package (and so etcd) does: scripts and test helpers append an
 * override to a default command line.
 */
import { envName, envNames } from '@deimos/protocol';

/** One flag's definition. */
export interface FlagSpec {
  /** Canonical name, kebab-case, without dashes. */
  name: string;
  /** Other accepted names (e.g. etcd's spelling of an original Deimos flag). */
  aliases?: string[];
  kind: 'string' | 'boolean' | 'integer';
  /** Default as text (parsed like a command-line value); undefined = unset. */
  defaultValue?: string;
  /** Help text: what it does, units, and an example where useful. */
  description: string;
  /** Not taken from the environment (e.g. --version). */
  noEnv?: boolean;
}

/** A bad command line or environment value; the message is meant for the user. */
export class FlagError extends Error {
  readonly code = 'ERR_BAD_FLAG';
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** Parsed values keyed by canonical name, and where each came from. */
export interface ParsedFlags {
  values: Map<string, string | boolean | number>;
  source: Map<string, 'argv' | 'env' | 'default'>;
  /** How each flag that was given was named: `--request-timeout`, `environment variable DEIMOS_X`. */
  given: Map<string, string>;
  /** Non-flag arguments. */
  positional: string[];
  /** One line per environment variable that a flag on the command line shadows (etcd refuses to start then). */
  shadowed: string[];
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function convert(spec: FlagSpec, raw: string, origin: string): string | boolean | number {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'boolean') {
    if (TRUE_WORDS.has(raw)) return true;
    if (FALSE_WORDS.has(raw)) return false;
    throw new FlagError(`invalid boolean value "${raw}" for ${origin}`);
  }
  if (!/^-?\d+$/.test(raw)) throw new FlagError(`invalid integer value "${raw}" for ${origin}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new FlagError(`integer value "${raw}" for ${origin} is out of range`);
  return n;
}

export { envName, envNames };

/** Parses argv (without node and script) against the specs, then the environment, then defaults. */
export function parseFlags(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  envPrefix: string,
  hints: ReadonlyMap<string, string> = new Map(),
  /** A second prefix read after `envPrefix` (the member reads etcd's `ETCD_*` names too). */
  fallbackPrefix?: string,
): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const values = new Map<string, string | boolean | number>();
  const source = new Map<string, 'argv' | 'env' | 'default'>();
  const given = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) {
      const hint = hints.get(name);
      throw new FlagError(hint !== undefined ? `unknown flag: --${name} (etcd's): ${hint}` : `unknown flag: ${arg} (see --help)`);
    }
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (spec.kind === 'boolean') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag --${name} needs a value`);
      raw = argv[++i]!;
    }
    // Each occurrence is still checked, so a bad earlier value is reported rather than hidden.
    values.set(spec.name, convert(spec, raw, `flag --${name}`));
    source.set(spec.name, 'argv');
    given.set(spec.name, `--${name}`);
  }
  const variablesOf = (spec: FlagSpec): string[] => (spec.noEnv
    ? []
    : [...envNames(envPrefix, spec), ...(fallbackPrefix !== undefined ? envNames(fallbackPrefix, spec) : [])].filter((n) => env[n] !== undefined && env[n] !== ''));
  const shadowed: string[] = [];
  for (const spec of specs) {
    if (!values.has(spec.name)) continue;
    for (const n of variablesOf(spec)) shadowed.push(`environment variable ${n} is shadowed by the flag ${given.get(spec.name)} (the flag is used)`);
  }
  for (const spec of specs) {
    if (values.has(spec.name)) continue;
    const [variable, ...others] = variablesOf(spec);
    for (const other of others) shadowed.push(`environment variable ${other} is shadowed by ${variable} (${variable} is used)`);
    if (variable !== undefined) {
      values.set(spec.name, convert(spec, env[variable]!, `environment variable ${variable}`));
      source.set(spec.name, 'env');
      given.set(spec.name, `environment variable ${variable}`);
    } else if (spec.defaultValue !== undefined) {
      values.set(spec.name, convert(spec, spec.defaultValue, `default of --${spec.name}`));
      source.set(spec.name, 'default');
    }
  }
  return { values, source, given, positional, shadowed };
}

/** Renders `--help` text: every flag with its aliases, default and environment variable. */
export function renderHelp(title: string, usage: string, specs: readonly FlagSpec[], envPrefix: string): string {
  const lines = [title, '', `Usage: ${usage}`, '', 'Flags (also settable as environment variables):'];
  for (const spec of specs) {
    const names = [spec.name, ...(spec.aliases ?? [])].map((n) => `--${n}`).join(', ');
    const arg = spec.kind === 'boolean' ? '' : spec.kind === 'integer' ? ' <n>' : ' <value>';
    lines.push(`  ${names}${arg}`);
    lines.push(`      ${spec.description}`);
    const extra: string[] = [];
    if (spec.defaultValue !== undefined && spec.defaultValue !== '') extra.push(`default: ${spec.defaultValue}`);
    if (!spec.noEnv) extra.push(`env: ${envNames(envPrefix, spec).join(' or ')}`);
    if (extra.length > 0) lines.push(`      (${extra.join('; ')})`);
  }
  return lines.join('\n') + '\n';
}
