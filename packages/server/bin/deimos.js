#!/usr/bin/env node
// The deimos server binary: see `deimos --help`.
import { tuneHeap } from '../dist/src/heap-tuning.js';

// Heap settings first, so that they hold while the server's modules load.
tuneHeap();
const { watchNpmWrapper } = await import('@deimos/proxy');
const { main } = await import('../dist/src/main.js');

// Under `npm start` or `npx deimos`, npm's SIGTERM stops at its shell: stop when npm is gone.
watchNpmWrapper();
// Exit explicitly: a stopped member has nothing left to do, whatever handles remain open.
process.exit(await main(process.argv.slice(2), process.env));
