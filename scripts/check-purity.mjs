#!/usr/bin/env node
// Lint rule: the consensus core and the protocol package stay pure and deterministic.
// The compiler already refuses node:* types there ("types": [] and no DOM lib); this walks the
// syntax tree to catch what still type-checks: Date, Math.random, performance, process, async code,
// and imports of anything but the allowed packages.
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const rules = [
  { dir: 'packages/protocol/src', allowedImports: [] },
  { dir: 'packages/raft/src', allowedImports: ['@deimos/protocol'] },
];
const bannedGlobals = new Set([
  'Date', 'performance', 'process', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask',
  'clearTimeout', 'clearInterval', 'Buffer', 'require', 'globalThis', 'fetch', 'console', 'Promise',
]);

function* tsFiles(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) yield p;
  }
}

const problems = [];
for (const rule of rules) {
  const dir = join(root, rule.dir);
  for (const file of tsFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const report = (node, what) => {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      problems.push(`${relative(root, file)}:${line + 1}:${character + 1}: ${what}`);
    };
    const visit = (node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
        const spec = node.moduleSpecifier.text;
        if (!spec.startsWith('.') && !rule.allowedImports.includes(spec)) report(node, `import of '${spec}' is not allowed here`);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) report(node, 'dynamic import is not allowed here');
      if (ts.isIdentifier(node) && bannedGlobals.has(node.text)) {
        const parent = node.parent;
        const isPropertyName = (ts.isPropertyAccessExpression(parent) && parent.name === node)
          || (ts.isPropertyAssignment(parent) && parent.name === node)
          || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)
          || ts.isMethodSignature(parent);
        if (!isPropertyName) report(node, `use of '${node.text}' is not allowed here (inject it instead)`);
      }
      if (ts.isPropertyAccessExpression(node) && node.expression.getText(sf) === 'Math' && node.name.text === 'random') {
        report(node, 'Math.random is not allowed here (use the injected Rng)');
      }
      if (node.kind === ts.SyntaxKind.AsyncKeyword || node.kind === ts.SyntaxKind.AwaitExpression) report(node, 'async code is not allowed here');
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}

if (problems.length > 0) {
  console.error(`purity check failed (${problems.length}):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('purity check passed: packages/protocol and packages/raft use no I/O, clock, timers or randomness');
