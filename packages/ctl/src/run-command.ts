/** Runs a child command with shared stdio, forwarding SIGINT/SIGTERM to it; resolves with its exit code. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ExitCode } from './exit-codes.js';

/** A started child and the promise of its exit code (128 + signal number when killed by a signal). */
export interface RunningCommand {
  child: ChildProcess;
  exited: Promise<number>;
  /** Set when the command could not be started (missing, not executable); `exited` then gives {@link CANNOT_START_EXIT}. */
  startError?: Error;
}

/**
 * The exit code of deimosctl when the command it should run (`lock -- CMD`, `exec-watch -- CMD`)
 * cannot be started: 1, etcdctl's exec-watch code, the same for every command that runs one.
 */
export const CANNOT_START_EXIT = ExitCode.BadArgs;

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Starts `command` with extra environment variables. A command that cannot start prints
 * `Error:  cannot start CMD: <reason>` and gives {@link CANNOT_START_EXIT}. With `endWithParent`
 * the command gets SIGTERM if deimosctl itself dies (see {@link endingWithParent}).
 */
export function startCommand(command: string[], env: Record<string, string>, opts: { endWithParent?: boolean } = {}): RunningCommand {
  const childEnv = { ...process.env, ...env };
  const [file, ...args] = opts.endWithParent === true ? endingWithParent(command, childEnv.PATH) : command;
  const child = spawn(file!, args, { stdio: 'inherit', env: childEnv });
  const running: RunningCommand = { child, exited: Promise.resolve(0) };
  running.exited = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      running.startError = err;
      process.stderr.write(`Error:  cannot start ${command[0]}: ${err.message}\n`);
      resolve(CANNOT_START_EXIT);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1)));
  });
  return running;
}

/** util-linux's setpriv, where it is (Linux), found once. */
let setprivPath: string | null | undefined;

/** The executable file `name` runs as (a path, or the first match on PATH), or undefined. */
function executable(name: string, path: string | undefined): string | undefined {
  const candidates = name.includes('/') ? [name] : (path ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, name));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, constants.X_OK);
        return c;
      }
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * `command` run through `setpriv --pdeathsig TERM`, so that the kernel sends it SIGTERM when
 * deimosctl dies, even by SIGKILL: a lock's command must not run on once nobody holds the lock
 * for it (its key expires after the TTL and a waiter goes in). The signal reaches the command
 * itself, not children it started (a shell should `exec` its last command). Without setpriv (not
 * Linux), or for a command that cannot be found (its error stays deimosctl's own), as given.
 */
export function endingWithParent(command: string[], path: string | undefined): string[] {
  setprivPath ??= executable('setpriv', `/usr/bin${delimiter}/bin${delimiter}${path ?? ''}`) ?? null;
  if (setprivPath === null || executable(command[0]!, path) === undefined) return command;
  return [setprivPath, '--pdeathsig', 'TERM', '--', ...command];
}
