/**
 * The base of every deimosctl command: the global flags (defined once here), the client built from
 * them, the value-from-stdin rule, colour, and the one place errors become a stderr line and an exit code.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { Chalk, supportsColor, supportsColorStderr, type ChalkInstance } from 'chalk';
import { DeimosClient } from '@deimos/client';
import { parseDurationMs } from './duration.js';
import { debugPrinter } from './debug-output.js';
import { KEYS_FAILURE, describeError, syncFailure, type FailurePolicy } from './describe-error.js';
import { usageError } from './ctl-error.js';
import { etcdctlParseError } from './parse-errors.js';
import { etcdctlFlagOrder, type FlagShape } from './flag-order.js';
import { formatResponse, type FormattableResponse, type OutputMode } from './format.js';
import { readStdin } from './read-stdin.js';
import { readTlsFiles } from './tls-files.js';
import { withoutStdin } from './without-stdin.js';
import { resolveCredentials } from './credentials.js';
import { closePrompts } from './prompt-password.js';
import type { Credentials } from '@deimos/client';
import { DEFAULT_ENDPOINTS } from './default-endpoints.js';

export { DEFAULT_ENDPOINTS };

const GLOBAL = 'GLOBAL';

/** Commands that run until interrupted: --total-timeout does not apply (etcdctl's watch and exec-watch). */
const UNBOUNDED_COMMANDS = new Set(['watch', 'exec-watch', 'lock', 'elect', 'service:register', 'service:watch', 'cluster-health']);

/** Flags of a concrete command plus the global ones. */
export type CtlFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof DeimosCommand)['baseFlags'] & T['flags']>;
/** Arguments of a concrete command. */
export type CtlArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** Base class of every command: parses flags once, owns the client, maps errors to etcdctl exit codes. */
export abstract class DeimosCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    endpoints: Flags.string({
      env: 'DEIMOSCTL_ENDPOINTS', default: DEFAULT_ENDPOINTS, helpGroup: GLOBAL, aliases: ['endpoint', 'peers'], charAliases: ['C'],
      description: 'comma-separated list of cluster endpoints (etcdctl\'s -C, --peers, --endpoint and ETCDCTL_ENDPOINTS also work)',
    }),
    output: Flags.string({ char: 'o', options: ['simple', 'json', 'extended'], default: 'simple', helpGroup: GLOBAL, description: 'output format' }),
    timeout: Flags.string({ default: '5s', helpGroup: GLOBAL, description: 'per-request timeout, a duration with its unit (e.g. 500ms, 5s, 1m)' }),
    'total-timeout': Flags.string({ helpGroup: GLOBAL, description: 'give up on the whole command after this long (e.g. 10s; not for watch, exec-watch, lock, elect, service register/watch, cluster-health)' }),
    'ca-file': Flags.string({ env: 'DEIMOSCTL_CA_FILE', helpGroup: GLOBAL, description: 'verify servers with this CA bundle (PEM; ETCDCTL_CA_FILE also works)' }),
    'cert-file': Flags.string({ env: 'DEIMOSCTL_CERT_FILE', helpGroup: GLOBAL, description: 'client certificate (PEM) for TLS (ETCDCTL_CERT_FILE also works)' }),
    'key-file': Flags.string({ env: 'DEIMOSCTL_KEY_FILE', helpGroup: GLOBAL, description: 'client key (PEM) for TLS (ETCDCTL_KEY_FILE also works)' }),
    debug: Flags.boolean({ helpGroup: GLOBAL, description: 'print the requests on stderr as cURL commands that reproduce them' }),
    sync: Flags.boolean({ allowNo: true, default: true, helpGroup: GLOBAL, description: 'discover members through /v2/members first (--no-sync: use the endpoints as given)' }),
    username: Flags.string({
      char: 'u', env: 'DEIMOSCTL_USERNAME', helpGroup: GLOBAL,
      description: 'user[:password] for a cluster with auth enabled; the password is asked for when not given (ETCDCTL_USERNAME also works)',
    }),
    color: Flags.boolean({ allowNo: true, default: true, helpGroup: GLOBAL, description: 'colour output on a terminal (NO_COLOR also turns it off)' }),
  };

  /** Set by commands that take `-- command...`: the arguments after the first `--`. */
  static passThrough = false;
  /**
   * Sync the endpoints from /v2/members before `run` unless --no-sync (etcdctl syncs for every
   * command but cluster-health); commands that need no cluster (cert) set false.
   */
  static syncFirst = true;
  /** How an unreachable cluster or a non-etcd error answer is reported (etcdctl's key commands by default). */
  static failure: FailurePolicy = KEYS_FAILURE;

  protected flags!: CtlFlags<T>;
  protected args!: CtlArgs<T>;
  /** Every positional argument as given (commands with `strict = false` take a variable number). */
  protected argvPositional: string[] = [];
  /** Arguments after `--` (commands with `passThrough`). */
  protected passThrough: string[] = [];
  /** Colour for stdout and stderr (level 0 when off). */
  protected out!: ChalkInstance;
  protected err!: ChalkInstance;
  private clientInstance: DeimosClient | undefined;
  private credentials: Credentials | undefined;

  override async init(): Promise<void> {
    await super.init();
    this.setColor(!this.argv.includes('--no-color')); // parse errors are printed before the flags exist
    const ctor = this.ctor as typeof DeimosCommand;
    let argv = this.argv;
    if (ctor.passThrough) {
      const dashes = argv.indexOf('--');
      if (dashes >= 0) {
        this.passThrough = argv.slice(dashes + 1);
        argv = argv.slice(0, dashes);
      }
    }
    const slots = ctor.strict === false ? Infinity : Object.keys(ctor.args ?? {}).length;
    argv = etcdctlFlagOrder(argv, { ...ctor.baseFlags, ...ctor.flags } as Record<string, FlagShape>, slots);
    const { flags, args, argv: positional } = await this.parse({ flags: ctor.flags, baseFlags: ctor.baseFlags, args: withoutStdin(optionalArgs(ctor.args)), strict: ctor.strict }, argv);
    this.flags = flags as CtlFlags<T>;
    this.args = args as CtlArgs<T>;
    this.argvPositional = positional as string[];
    this.setColor(this.flags.color);
    this.startTotalTimeout();
    this.credentials = await resolveCredentials(this.flags.username);
    if (ctor.syncFirst && this.flags.sync) await this.syncEndpoints();
  }

  /**
   * `--total-timeout` (etcdctl's): the whole command gives up after it, reported as the command
   * reports an unreachable cluster. Commands that run until interrupted are exempt, as in etcdctl.
   */
  private startTotalTimeout(): void {
    const text = this.flags['total-timeout'];
    if (text === undefined || UNBOUNDED_COMMANDS.has(this.id ?? '')) return;
    const ms = parseDurationMs(text);
    const { exitCode } = (this.ctor as typeof DeimosCommand).failure;
    setTimeout(() => {
      process.stderr.write(`${this.err.red(`Error:  total timeout of ${text} exceeded (--total-timeout)`)}\n`);
      process.exit(exitCode);
    }, ms).unref();
  }

  /** etcdctl's sync: a network failure on every endpoint exits 2; any other failure leaves the endpoints as given. */
  private async syncEndpoints(): Promise<void> {
    try {
      await this.client().sync();
    } catch (err) {
      const fatal = syncFailure(err);
      if (fatal) throw fatal;
    }
  }

  /** Colour only on a terminal, and never with --no-color or NO_COLOR. */
  private setColor(wanted: boolean): void {
    const off = !wanted || (process.env.NO_COLOR ?? '') !== '';
    this.out = new Chalk({ level: off || !supportsColor ? 0 : supportsColor.level });
    this.err = new Chalk({ level: off || !supportsColorStderr ? 0 : supportsColorStderr.level });
  }

  /** The output mode of `--output`. */
  protected get mode(): OutputMode {
    return this.flags.output as OutputMode;
  }

  /** The endpoints of `--endpoints`, trimmed, empty entries dropped. */
  protected endpoints(): string[] {
    const list = this.flags.endpoints.split(',').map((e) => e.trim()).filter((e) => e !== '');
    if (list.length === 0) throw usageError('no endpoints given');
    for (const e of list) {
      if (!URL.canParse(e)) throw usageError(`endpoint ${e}: not a valid URL`);
    }
    return list;
  }

  /** `--timeout` in milliseconds. */
  protected timeoutMs(): number {
    return parseDurationMs(this.flags.timeout);
  }

  /** The client for the global flags (created once per command). */
  protected client(): DeimosClient {
    if (this.clientInstance) return this.clientInstance;
    const tls = readTlsFiles(this.flags);
    const debug = this.flags.debug
      ? debugPrinter((line) => process.stderr.write(`${line}\n`), () => this.clientInstance?.endpoints ?? [])
      : undefined;
    this.clientInstance = new DeimosClient({ endpoints: this.endpoints(), timeoutMs: this.timeoutMs(), tls, sync: false, ...(debug ? { debug } : {}), ...(this.credentials ? { auth: this.credentials } : {}) });
    return this.clientInstance;
  }

  /** The value argument, or all of stdin when it is absent (like etcdctl); `value required` otherwise. */
  protected async valueOrStdin(value: string | undefined): Promise<string> {
    if (value !== undefined) return value;
    const input = process.stdin.isTTY ? '' : await readStdin();
    if (input === '') throw usageError('value required');
    return input;
  }

  /** True for a read that needs a quorum (get, ls, watch without --serializable): errors then point to --serializable. */
  protected readsLinearizably(): boolean {
    return false;
  }

  /** Writes text exactly as given (formatters end lines themselves). */
  protected write(text: string): void {
    process.stdout.write(text);
  }

  /** Prints a response the way etcdctl's printResponseKey does. */
  protected printResponse(resp: FormattableResponse): void {
    this.write(formatResponse(resp, this.mode));
  }

  /** One red line on stderr, no stack, then the etcdctl exit code. */
  override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<never> {
    if (err.constructor?.name === 'ExitError' || (err as { code?: string }).code === 'EEXIT') throw err;
    const parseError = etcdctlParseError(err, `${this.config.bin} ${(this.id ?? '').replace(/:/g, ' ')}`);
    const { line, exitCode, bare } = describeError(parseError ?? err, (this.ctor as typeof DeimosCommand).failure, { linearizableRead: this.flags !== undefined && this.readsLinearizably() });
    process.stderr.write(`${this.err.red(bare ? line : `Error:  ${line}`)}\n`);
    this.exit(exitCode);
  }

  override async finally(err: Error | undefined): Promise<void> {
    this.clientInstance?.close();
    closePrompts();
    return super.finally(err);
  }
}

/**
 * The arguments as parsed: never required to oclif, so that a missing one gets the command's own
 * etcdctl message (`key required`) rather than oclif's; `required` stays on the declarations for
 * the help text (`get KEY`, not `get [KEY]`).
 */
function optionalArgs(args: Interfaces.ArgInput | undefined): Interfaces.ArgInput | undefined {
  if (!args) return args;
  return Object.fromEntries(Object.entries(args).map(([name, arg]) => [name, { ...arg, required: false }]));
}
