// Summarises a V8 .cpuprofile (node --cpu-prof) as text: where the process spent its sampled time,
// by function (self time) and by source file, so a profile taken on a remote machine can come back
// as a few kilobytes. Usage: node scripts/cpuprofile-top.mjs FILE [TOP]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
// Percentages are of the busy time: the idle node (waiting in epoll) is left out.
const isIdle = (id) => byId.get(id).callFrame.functionName === '(idle)';
const idle = [...selfUs].filter(([id]) => isIdle(id)).reduce((a, [, us]) => a + us, 0);
const total = [...selfUs.values()].reduce((a, b) => a + b, 0) - idle;
const byFunction = new Map();
const byFile = new Map();
const shortUrl = (url) => url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^file:\/\//, '') || '(native)';
for (const [id, us] of selfUs) {
  if (isIdle(id)) continue;
  const f = byId.get(id).callFrame;
  const where = shortUrl(f.url);
  const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
// Inclusive time: a function's own time plus everything it called (counted once per stack).
const inclusive = new Map();
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const keyOf = (id) => {
  const f = byId.get(id).callFrame;
  return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
};
for (const [id, us] of selfUs) {
  if (isIdle(id)) continue;
  const seen = new Set();
  for (let at = id; at !== undefined; at = parentOf.get(at)) {
    const key = keyOf(at);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const pct = (us) => ((100 * us) / Math.max(1, total)).toFixed(1).padStart(5);
const print = (title, map) => {
  console.log(`  ${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}% ${k}`);
};
console.log(`== ${basename(file)}: ${(total / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle`);
print('self time by function', byFunction);
print('self time by file', byFile);
if (process.env.INCLUSIVE) print('inclusive time by function', inclusive);
