/**
 * V8 heap settings of the `deimos` process. Node's defaults suit short bursts of allocation on big
 * machines: a young generation that grows to 2 x 16 MiB and an old generation allowed to grow to
 * several times its live size before a full collection. A member keeps a steady live set (the
 * keyspace) and allocates a little per request, so those defaults leave its resident memory at
 * roughly twice what it holds. The binary applies these before anything else is loaded; heap flags
 * the user gave node themselves (command line or NODE_OPTIONS) win.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

/**
 * Largest young generation (both semi-spaces) we let V8 grow to. Measured on a 3-node write load:
 * 2 x 1 MiB tripled the scavenge time per write (in-flight requests survive into the old generation),
 * 2 x 4 MiB cost about what 2 x 16 MiB does, and 24 MiB less resident memory.
 */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 2 ** 20;

/** Full collections let the old generation grow to 1.2 x its live size instead of up to 4 x. */
const OLD_GENERATION_FLAG = '--heap-growing-percent=20';

/** User flags that replace our young-generation cap. */
const YOUNG_OVERRIDES = ['--max-semi-space-size', '--min-semi-space-size', '--semi-space-growth-factor'];
/** User flags that replace our old-generation growth. */
const OLD_OVERRIDES = ['--heap-growing-percent', '--max-old-space-size'];

/** What {@link tuneHeap} changes, given node's own arguments and NODE_OPTIONS. */
export function heapTuningPlan(execArgv: readonly string[], nodeOptions: string | undefined): { capYoung: boolean; oldFlags: string[] } {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((a) => a.split('=')[0]!.replaceAll('_', '-'));
  const overridden = (names: readonly string[]) => names.some((f) => given.includes(f));
  return { capYoung: !overridden(YOUNG_OVERRIDES), oldFlags: overridden(OLD_OVERRIDES) ? [] : [OLD_GENERATION_FLAG] };
}

/** Bytes of the young generation (both semi-spaces) now. */
export function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** The cap in force (set by {@link capYoungGeneration}), if any. */
let activeCapBytes: number | undefined;
/** Whether the growth factor is known to be 1 now (a starting thread may put it back). */
let growthStopped = false;
/** Worker threads started and not yet up: until then, every collection checks again. */
let threadsStarting = 0;

/**
 * Stops the young generation growing once it reaches `capBytes`. V8 reads its maximum size only at
 * start (so it cannot be lowered from inside the process); it grows the young generation after a
 * scavenge by --semi-space-growth-factor, which can be changed at any time: 1 stops the growth.
 * A worker thread, while it starts, puts the factor back to V8's default for the whole process
 * (measured: the main thread's young generation then grew to 2 x 16 MiB), so threads are started
 * under {@link keepYoungGenerationCap}.
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): void {
  activeCapBytes = capBytes;
  growthStopped = false;
  stopGrowthAtCap();
  watchCollections();
}

/** Observes collections while growth may still need stopping (see {@link capYoungGeneration}). */
let observer: PerformanceObserver | undefined;

/** Whether collections are observed now (for tests). */
export function watchingCollections(): boolean {
  return observer !== undefined;
}

/**
 * Growth happens only in a collection, so looking after each one is enough; once it is stopped
 * and no thread is starting, nothing can start it again and the observer is disconnected: node
 * builds entry objects for every collection it reports (profiled: ~2 % of a client worker's time
 * under serializable reads, scavenging hundreds of times a second).
 */
function watchCollections(): void {
  if (observer !== undefined || (growthStopped && threadsStarting === 0)) return;
  const watching = new PerformanceObserver(() => {
    if (!growthStopped || threadsStarting > 0) stopGrowthAtCap();
    if (growthStopped && threadsStarting === 0 && observer === watching) {
      watching.disconnect();
      observer = undefined;
    }
  });
  observer = watching;
  watching.observe({ entryTypes: ['gc'] });
}

/** Keeps the cap across the start of `worker` (call right after creating it). */
export function keepYoungGenerationCap(worker: Worker): void {
  if (activeCapBytes === undefined) return;
  threadsStarting++;
  watchCollections();
  let started = false;
  const done = (): void => {
    if (started) return;
    started = true;
    threadsStarting--;
    // The thread is up: whatever its start reset is known now.
    growthStopped = false;
    stopGrowthAtCap();
    watchCollections();
  };
  worker.once('online', done);
  worker.once('exit', done);
}

function stopGrowthAtCap(): void {
  if (activeCapBytes === undefined || youngGenerationBytes() < activeCapBytes) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  growthStopped = true;
}

/** Applies the heap settings to this process; call before the server's modules load. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): void {
  const plan = heapTuningPlan(execArgv, nodeOptions);
  for (const flag of plan.oldFlags) setFlagsFromString(flag);
  if (plan.capYoung) capYoungGeneration();
}
