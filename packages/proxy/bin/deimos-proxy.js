#!/usr/bin/env node
// The deimos-proxy binary: see `deimos-proxy --help`.
import { runProxyCli } from '../dist/src/index.js';

// Exit explicitly: a stopped proxy has nothing left to do, whatever handles remain open.
process.exit(await runProxyCli(process.argv.slice(2), process.env));
