/** Runs a child command with shared stdio, forwarding SIGINT/SIGTERM to it; resolves with its exit code. */
import { spawn, type ChildProcess } from 'node:child_process';
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
 * `Error:  cannot start CMD: <reason>` and gives {@link CANNOT_START_EXIT}.
 */
export function startCommand(command: string[], env: Record<string, string>): RunningCommand {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
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
