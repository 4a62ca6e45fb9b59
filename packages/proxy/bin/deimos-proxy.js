#!/usr/bin/env node
// The deimos-proxy binary: see `deimos-proxy --help`.
import { runProxyCli, watchNpmWrapper } from '../dist/src/index.js';

// Under `npx deimos-proxy`, npm's SIGTERM stops at its shell: stop when npm is gone.
watchNpmWrapper();
// Exit explicitly: a stopped proxy has nothing left to do, whatever handles remain open.
process.exit(await runProxyCli(process.argv.slice(2), process.env));
