/** Runs a child command with shared stdio, forwarding SIGINT/SIGTERM to it; resolves with its exit code. */
import { spawn, type ChildProcess } from 'node:child_process';

/** A started child and the promise of its exit code (128 + signal number when killed by a signal). */
export interface RunningCommand {
  child: ChildProcess;
  exited: Promise<number>;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `command` with extra environment variables. A command that cannot start exits 127, like a shell. */
export function startCommand(command: string[], env: Record<string, string>): RunningCommand {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
  const exited = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`${command[0]}: ${err.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1)));
  });
  return { child, exited };
}
