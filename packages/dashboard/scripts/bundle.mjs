#!/usr/bin/env node
// Bundles the browser app (web/src/main.tsx: Preact, uPlot and our code, with their CSS) into
// dist/assets: one content-hashed JS file, one content-hashed CSS file and the index.html naming
// them. Members and deimos-proxy read that folder once at start (src/dashboard-assets.ts).
// Run by the root build, prepare and test scripts after `tsc -b` (which type-checks web/).
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist', 'assets');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'web', 'src', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`bundle produced ${outputs.join(', ')}: expected one .js and one .css`);

// No inline script or style: the Content-Security-Policy allows neither.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Deimos dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${css}">
<script type="module" src="${js}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);
console.log(`dashboard bundle: ${outputs.filter((f) => !f.endsWith('.map')).join(', ')}, index.html`);
