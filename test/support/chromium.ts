/**
 * Debian's chromium for the browser tests (driven by playwright-core), installed the way .ci/run
 * installs etcd when it is missing: apt-get, with sudo unless root. A failed install fails the
 * tests rather than skipping them, so a machine without a browser cannot hide a broken dashboard.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { findOnPath } from './find-on-path.js';

/** Where Debian puts it; `DEIMOS_CHROMIUM` overrides. */
const DEFAULT_PATH = '/usr/bin/chromium';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function located(): string | undefined {
  const wanted = process.env.DEIMOS_CHROMIUM ?? DEFAULT_PATH;
  if (executable(wanted)) return wanted;
  return findOnPath('chromium');
}

/** The chromium executable, installed first (apt-get install chromium) when missing. */
export function ensureChromium(): string {
  const found = located();
  if (found !== undefined) return found;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]): void => {
    const [cmd, ...rest] = [...sudo, ...args];
    execFileSync(cmd!, rest, { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  };
  try {
    run(['apt-get', 'update', '-qq']);
  } catch {
    // One unreachable mirror is not fatal by itself: the install decides.
  }
  try {
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  } catch (err) {
    throw new Error(`chromium is missing and apt-get could not install it: ${(err as Error).message}`);
  }
  const installed = located();
  if (installed === undefined) throw new Error('apt-get installed chromium but no chromium executable was found');
  return installed;
}
