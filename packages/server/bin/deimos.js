#!/usr/bin/env node
// The deimos server binary: see `deimos --help`.
import { main } from '../dist/src/main.js';

// Exit explicitly: a stopped member has nothing left to do, whatever handles remain open.
process.exit(await main(process.argv.slice(2), process.env));
