#!/usr/bin/env node
// Runs every compiled test file with node's test runner and ends with one summary line.
// Unit and simulation tests run two at a time; files that start real server processes
// (anything under an e2e/ or chaos/ folder) run one at a time, because this machine has 2 cores.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
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
const groups = [
  { files: files.filter((f) => !isSerial(f)), concurrency: 2 },
  { files: files.filter(isSerial), concurrency: 1 },
];

let passed = 0;
let failed = 0;
for (const group of groups) {
  if (group.files.length === 0) continue;
  const result = await runGroup(group.files, group.concurrency);
  passed += result.passed;
  failed += result.failed;
}
if (files.length === 0) {
  console.error('no test files found: did the build run?');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

function runGroup(groupFiles, concurrency) {
  return new Promise((resolve) => {
    const args = ['--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, ...groupFiles.map((f) => relative(root, f))];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    });
    child.on('close', (code) => {
      const pass = Number(/# pass (\d+)/.exec(tail)?.[1] ?? 0);
      let fail = Number(/# fail (\d+)/.exec(tail)?.[1] ?? 0);
      if (code !== 0 && fail === 0) fail = 1;
      resolve({ passed: pass, failed: fail });
    });
  });
}
