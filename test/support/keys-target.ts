/**
 * The server a keys-API e2e file talks to: a fresh `deimos` process, or an external server named by
 * `DEIMOS_E2E_TARGET` (e.g. a real etcd 3.4 with `--enable-v2`) to check that our expectations are
 * etcd's behaviour. In external mode only the `/v2/keys` cases that need no restart and no flags run.
 */
import { DeimosProcess, type DeimosProcessOptions } from './deimos-process.js';

/** Base URL of an external server under test, when set. */
export const EXTERNAL_TARGET: string | undefined = process.env.DEIMOS_E2E_TARGET?.replace(/\/+$/, '') || undefined;

/** True when the tests run against an external server rather than a `deimos` process of their own. */
export const IS_EXTERNAL = EXTERNAL_TARGET !== undefined;

/**
 * Test options that skip a Deimos-specific test in external mode, with the reason shown by the runner.
 * Use it for behaviour where Deimos differs from etcd on purpose.
 */
export function deimosOnly(reason: string): { skip: string | false } {
  return { skip: IS_EXTERNAL ? `deimos-only: ${reason}` : false };
}

/** Test options that skip a test needing its own process (restart, kill, flags) in external mode. */
export function ownServerOnly(reason: string): { skip: string | false } {
  return { skip: IS_EXTERNAL ? `needs its own deimos process: ${reason}` : false };
}

/** One path family of the keys API. */
export interface PathFamily {
  prefix: '/v2/keys' | '/keys';
  skip: string | false;
}

/** The two families Deimos serves: etcd's `/v2/keys` and the original Deimos `/keys`. */
export const PATH_FAMILIES: readonly PathFamily[] = [
  { prefix: '/v2/keys', skip: false },
  { prefix: '/keys', skip: IS_EXTERNAL ? 'deimos-only: the original Deimos /keys path family does not exist in etcd' : false },
];

/** The server of one test file. */
export class KeysTarget {
  private constructor(
    readonly clientUrl: string,
    /** The process, when this file started one (undefined in external mode). */
    readonly process: DeimosProcess | undefined,
  ) {}

  /** Starts a fresh server (or adopts the external one). */
  static async start(opts: DeimosProcessOptions = {}): Promise<KeysTarget> {
    if (EXTERNAL_TARGET !== undefined) return new KeysTarget(EXTERNAL_TARGET, undefined);
    const p = await DeimosProcess.start(opts);
    return new KeysTarget(p.clientUrl, p);
  }

  /** The process; throws in external mode (callers are skipped there). */
  get deimos(): DeimosProcess {
    if (!this.process) throw new Error('no deimos process in external mode');
    return this.process;
  }

  /** Stops the process this file started, if any. */
  async destroy(): Promise<void> {
    await this.process?.destroy();
  }
}

const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
let keyCounter = 0;

/**
 * A key path unique to this run and call (`/e2e-<run>-<n>-<name>`), so that tests never share keys,
 * even when an external server keeps data between runs.
 */
export function uniqueKey(name: string): string {
  keyCounter += 1;
  return `/e2e-${runId}-${keyCounter}-${name}`;
}
