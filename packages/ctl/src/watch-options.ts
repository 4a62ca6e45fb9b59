/** The `--after-index` rule shared by `watch` and `exec-watch`. */

/** `{afterIndex}` when the flag was given and non-zero: watch events after that index; otherwise from now. */
export function afterIndexOption(afterIndex: number | undefined): { afterIndex?: number } {
  return afterIndex ? { afterIndex } : {};
}

/**
 * Resolves on the first SIGINT or SIGTERM: long-running commands end cleanly (exit 0, as etcdctl)
 * and release what they hold.
 */
export function untilSignal(): { promise: Promise<NodeJS.Signals>; signal: AbortSignal } {
  const controller = new AbortController();
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      controller.abort();
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { promise, signal: controller.signal };
}

/**
 * Watches end on SIGINT with exit 0, as etcdctl's do (they hold nothing to release), and on
 * SIGTERM with 143, the status of etcdctl killed by it (it handles only SIGINT). `beforeExit` runs
 * first (exec-watch passes the signal on to the commands it started).
 */
export function exitOnSignal(beforeExit?: () => void): void {
  process.once('SIGINT', () => {
    beforeExit?.();
    process.exit(0);
  });
  process.once('SIGTERM', () => {
    beforeExit?.();
    process.exit(143);
  });
}

/**
 * Keeps the process alive while it only waits for a signal (the client's keep-alive timers are
 * unreferenced on purpose); call the returned function to let it end.
 */
export function keepProcessAlive(): () => void {
  const timer = setInterval(() => undefined, 1 << 30);
  return () => clearInterval(timer);
}
