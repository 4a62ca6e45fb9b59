/**
 * Installing Deimos the way a user outside the checkout does: `npm pack` of the eight packages, then
 * `npm ci` of those tarballs in an empty directory. A plain `npm install <tarballs>` needs the
 * registry (or its metadata in npm's cache) to resolve the third-party ranges, and tests must not
 * need the network; so the install directory gets a lockfile that pins each third-party dependency
 * to exactly what this checkout's lockfile has (same versions, integrities and nesting), and
 * `npm ci --offline` takes their tarballs from npm's cache, where installing this checkout put them.
 * Install scripts are skipped (`--ignore-scripts`): better-sqlite3's would compile SQLite for about
 * 90 s; its native module is copied from this checkout's build instead (the same Node, the same
 * version, as the lockfile pins it).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this checkout. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The workspaces a user installs, in dependency order. */
export const PACKED_WORKSPACES = ['@deimos/protocol', '@deimos/net', '@deimos/dashboard', '@deimos/raft', '@deimos/server', '@deimos/client', '@deimos/ctl', '@deimos/proxy'];

/** One tarball as `npm pack --json` describes it. */
export interface PackedTarball {
  name: string;
  filename: string;
  integrity: string;
  files: Array<{ path: string }>;
}

/** What a finished command printed and how it ended. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** npm settings of the npm running the tests that a child npm keeps: where its cache and config are. */
const KEPT_NPM_CONFIG = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cafile', 'npm_config_nodedir', 'npm_config_registry']);

/**
 * The environment for a child npm: this one without the `npm_*` variables that the npm running
 * the tests (npm test) set, which a nested npm would read as its own (its project directory, its
 * log level, its script), except those in {@link KEPT_NPM_CONFIG}.
 */
export function cleanNpmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || KEPT_NPM_CONFIG.has(k.toLowerCase())) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to its end (killed after `timeoutMs`). */
export function runCommand(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanNpmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `npm pack` of {@link PACKED_WORKSPACES} into `dest`. */
export async function packWorkspaces(dest: string): Promise<PackedTarball[]> {
  mkdirSync(dest, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dest, ...PACKED_WORKSPACES.flatMap((w) => ['-w', w])];
  const r = await runCommand('npm', args, { cwd: REPO_ROOT });
  if (r.code !== 0) throw new Error(`npm pack failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as PackedTarball[];
}

interface LockEntry {
  version?: string;
  resolved?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** Lock paths where node would look for `name` from the package at lock path `from`, nearest first. */
function lookupPaths(from: string, name: string): string[] {
  const dirs = [from];
  for (let d = from; d.includes('/node_modules/');) {
    d = d.slice(0, d.lastIndexOf('/node_modules/'));
    dirs.push(d);
  }
  if (from !== '') dirs.push('');
  return [...new Set(dirs)].map((d) => (d ? `${d}/` : '') + `node_modules/${name}`);
}

/**
 * Writes `dir`/package.json (the tarballs as `file:` dependencies) and a package-lock.json with the
 * tarballs and the production closure of their third-party dependencies as this checkout's
 * lockfile resolves them; a dependency nested under a workspace (packages/ctl/node_modules/chalk)
 * is nested under the installed package (node_modules/@deimos/ctl/node_modules/chalk).
 */
export function writeInstallLock(dir: string, tarballs: readonly PackedTarball[], tarballDir: string): void {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const workspaceAt = new Map<string, string>(); // 'packages/ctl' -> '@deimos/ctl'
  for (const t of tarballs) workspaceAt.set(lock.packages[`node_modules/${t.name}`]!.resolved!, t.name);
  const installedPath = (p: string): string => {
    const m = /^(packages\/[^/]+)\/(node_modules\/.*)$/.exec(p);
    return m ? `node_modules/${workspaceAt.get(m[1]!)}/${m[2]}` : p;
  };
  const entries: Record<string, LockEntry> = {};
  const queue = [...workspaceAt.keys()];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const entry = lock.packages[p]!;
    const wanted = new Set([...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})]);
    for (const peer of Object.keys(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[peer]?.optional) wanted.add(peer);
    for (const name of wanted) {
      if (PACKED_WORKSPACES.includes(name)) continue;
      const found = lookupPaths(p, name).find((c) => lock.packages[c] !== undefined);
      if (found) queue.push(found);
      else if (!entry.optionalDependencies?.[name]) throw new Error(`${p} needs ${name}, which the lockfile does not hold`);
    }
    if (workspaceAt.has(p)) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
    entries[installedPath(p)] = kept;
  }
  const dependencies: Record<string, string> = {};
  for (const t of tarballs) {
    const resolved = `file:${join(tarballDir, t.filename)}`;
    dependencies[t.name] = resolved;
    const workspace = lock.packages[`node_modules/${t.name}`]!.resolved!;
    const { devDependencies: _devDeps, dev: _dev, link: _link, resolved: _r, ...kept } = lock.packages[workspace]!;
    entries[`node_modules/${t.name}`] = { ...kept, resolved, integrity: t.integrity };
  }
  const pkg = { name: 'deimos-install-check', version: '1.0.0', private: true, dependencies };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const lockfile = { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages: { '': { name: pkg.name, version: pkg.version, dependencies }, ...entries } };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lockfile, null, 2));
}

/** Copies this checkout's compiled better-sqlite3 module into the install at `dir` (whose install script was skipped). */
export function copyBetterSqliteBinding(dir: string): void {
  const fromServer = createRequire(join(REPO_ROOT, 'packages', 'server', 'package.json'));
  const source = join(dirname(fromServer.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
  const target = join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
}
