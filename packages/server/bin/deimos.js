#!/usr/bin/env node
// The deimos server binary: see `deimos --help`.
import { main } from '../dist/src/main.js';

process.exitCode = await main(process.argv.slice(2), process.env);
