#!/usr/bin/env node
// A deimos member's client worker (started by the member with --client-workers; see docs/multi-core.md).
import { tuneHeap } from '../dist/src/heap-tuning.js';

tuneHeap();
const { workerMain } = await import('../dist/src/worker/worker-main.js');
try {
  await workerMain(process.env);
} catch (err) {
  process.stderr.write(`deimos-worker: ${err.stack ?? err}\n`);
  process.exit(1);
}
