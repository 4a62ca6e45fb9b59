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

/**
 * Stops the young generation growing once it reaches `capBytes`. V8 reads its maximum size only at
 * start (so it cannot be lowered from inside the process); it grows the young generation after a
 * scavenge by --semi-space-growth-factor, which can be changed at any time: 1 stops the growth.
 * Starting a worker thread puts the factor back to V8's default (measured: the main thread's young
 * generation then grew to 2 x 16 MiB), so the check runs after every collection, and
 * {@link reassertYoungGenerationCap} runs once a worker thread is up.
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): void {
  activeCapBytes = capBytes;
  reassertYoungGenerationCap();
  // Growth happens only in a collection, so looking after each one is enough.
  const observer = new PerformanceObserver(() => reassertYoungGenerationCap());
  observer.observe({ entryTypes: ['gc'] });
}

/** Stops young-generation growth again if the cap is in force and reached (after a worker thread started). */
export function reassertYoungGenerationCap(): void {
  if (activeCapBytes === undefined || youngGenerationBytes() < activeCapBytes) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Applies the heap settings to this process; call before the server's modules load. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): void {
  const plan = heapTuningPlan(execArgv, nodeOptions);
  for (const flag of plan.oldFlags) setFlagsFromString(flag);
  if (plan.capYoung) capYoungGeneration();
}
