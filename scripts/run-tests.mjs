#!/usr/bin/env node
// Runs every compiled test file with node's test runner and ends with one summary line.
// Unit and simulation tests run two at a time; files that start real server processes
// (anything under an e2e/ or chaos/ folder) run one at a time, because this machine has 2 cores.
// A few e2e files spend most of their time waiting on a member's own timeouts (a 30 s join, a
// 30 s request bound) with one member and little CPU: their source says `e2e-lane: beside`, and
// they run one at a time in a second lane beside the others, their output printed when it ends.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { availableParallelism } from 'node:os';

/** A bound on each test file and test (see runGroup): far above any file's run alone, under CI's 20 minutes. */
const TEST_TIMEOUT_MS = 10 * 60 * 1000;

const root = new URL('..', import.meta.url).pathname;

// Members the tests start take --client-workers from DEIMOS_CLIENT_WORKERS, else `auto`: 0 on 2
// CPUs (this project's machines), one worker per CPU but one (up to 16) on bigger ones, which is up
// to 17 processes a member and 85 for a 5-member test. Past 2 CPUs the suites run with 2 workers a
// member unless the variable says otherwise: a mode they are run in whole (see docs/multi-core.md)
// whose process count does not grow with the machine. deimos-proxy's default is the same `auto`
// (DEIMOS_PROXY_CLIENT_WORKERS; `deimos --proxy` reads DEIMOS_CLIENT_WORKERS), and the same holds.
if (availableParallelism() > 2) {
  process.env.DEIMOS_CLIENT_WORKERS ??= '2';
  process.env.DEIMOS_PROXY_CLIENT_WORKERS ??= '2';
}
const filter = process.argv.slice(2);

function* find(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* find(p);
    else if (p.endsWith('.test.js')) yield p;
  }
}

const dirs = [join(root, 'test', 'dist')];
for (const pkg of readdirSync(join(root, 'packages'))) dirs.push(join(root, 'packages', pkg, 'dist', 'test'));
let files = dirs.flatMap((d) => [...find(d)]).sort();
if (filter.length > 0) files = files.filter((f) => filter.some((s) => f.includes(s)));
const isSerial = (f) => f.split(sep).some((part) => part === 'e2e' || part === 'chaos');
const isBeside = (f) => isSerial(f) && readFileSync(f, 'utf8').includes('e2e-lane: beside');
const serial = files.filter(isSerial);
const lanes = [
  [{ files: files.filter((f) => !isSerial(f)), concurrency: 2 }],
  [
    { files: serial.filter((f) => !isBeside(f)), concurrency: 1 },
    { files: serial.filter(isBeside), concurrency: 1, buffered: true },
  ],
];

let passed = 0;
let failed = 0;
for (const lane of lanes) {
  const results = await Promise.all(lane.filter((g) => g.files.length > 0).map((g) => runGroup(g.files, g.concurrency, g.buffered)));
  for (const result of results) {
    passed += result.passed;
    failed += result.failed;
  }
}
if (files.length === 0) {
  console.error('no test files found: did the build run?');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

function runGroup(groupFiles, concurrency, buffered = false) {
  return new Promise((resolve) => {
    // A bound on each test file (and test): a test that hangs (a member left paused, a promise
    // never settled) fails its file instead of holding the whole run.
    const args = ['--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, `--test-timeout=${TEST_TIMEOUT_MS}`, ...groupFiles.map((f) => relative(root, f))];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    const kept = [];
    child.stdout.on('data', (chunk) => {
      if (buffered) kept.push(chunk);
      else process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    });
    child.on('close', (code) => {
      if (buffered) process.stdout.write(Buffer.concat(kept));
      const pass = Number(/# pass (\d+)/.exec(tail)?.[1] ?? 0);
      let fail = Number(/# fail (\d+)/.exec(tail)?.[1] ?? 0);
      if (code !== 0 && fail === 0) fail = 1;
      resolve({ passed: pass, failed: fail });
    });
  });
}
