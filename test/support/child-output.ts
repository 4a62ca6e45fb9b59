/** What the process wrappers of the tests (deimos, etcd, deimos-proxy) keep of a spawned child. */
import type { ChildProcess } from 'node:child_process';

/**
 * Keeps the last `limit` characters of the child's stdout and stderr in `sink.output`; at exit calls
 * `onExit` with the exit code (128 for a signal) and the signal, then resolves.
 */
export function captureChild(
  child: ChildProcess,
  limit: number,
  sink: { output: string },
  onExit: (exitCode: number, signal: NodeJS.Signals | null) => void,
): Promise<void> {
  const keep = (chunk: Buffer) => {
    sink.output = (sink.output + chunk.toString()).slice(-limit);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return new Promise((resolve) => child.once('exit', (code, signal) => {
    onExit(code ?? (signal ? 128 : 0), signal);
    resolve();
  }));
}
