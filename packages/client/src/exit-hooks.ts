/**
 * Best-effort cleanup when the process ends (SIGINT, SIGTERM, beforeExit): locks and candidacies
 * delete their keys so that waiters need not wait for the TTL. Signals are process-wide, so this
 * registry is too; listeners are installed only while a hook is registered, and after the hooks
 * ran a signal is raised again so that the process ends as it would have without us.
 */

type Hook = () => Promise<void>;

const hooks = new Set<Hook>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** How long the hooks may take on a signal before the process ends anyway. */
const SIGNAL_GRACE_MS = 2_000;

/** Registers `hook` to run when the process ends; returns the function that unregisters it. */
export function onProcessExit(hook: Hook): () => void {
  hooks.add(hook);
  if (hooks.size === 1) install();
  return () => {
    if (hooks.delete(hook) && hooks.size === 0) uninstall();
  };
}

async function runHooks(): Promise<void> {
  const running = [...hooks].map((h) => h().catch((err: unknown) => {
    process.emitWarning(`deimos client exit cleanup failed: ${(err as Error).message ?? String(err)}`);
  }));
  hooks.clear();
  await Promise.all(running);
}

function onSignal(signal: NodeJS.Signals): void {
  uninstall();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SIGNAL_GRACE_MS);
  });
  void Promise.race([runHooks(), grace]).then(() => {
    clearTimeout(timer);
    // Others still listening decide themselves; otherwise end the way the signal would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function onBeforeExit(): void {
  if (hooks.size === 0) return;
  uninstall();
  void runHooks();
}

function install(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('beforeExit', onBeforeExit);
}

function uninstall(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('beforeExit', onBeforeExit);
}
