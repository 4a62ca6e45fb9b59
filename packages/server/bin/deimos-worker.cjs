#!/usr/bin/env node
// A deimos member's client worker (started by the member with --client-workers; see docs/multi-core.md).
'use strict';
const cluster = require('node:cluster');

// Node tells the primary 'online' as a cluster worker starts. A primary already gone (killed while
// it started its workers) fails that message with EPIPE, an 'error' of the worker object emitted
// before an ES module entry could listen, which without a listener ends the process with a stack
// trace in the member's output. It only means there is nothing to serve: exit quietly. This entry
// is CommonJS so that the listener is in place before that error is emitted; workerMain adds its
// own (a graceful stop) once it runs, and this one then leaves the going to it.
cluster.worker?.on('error', () => {
  if (cluster.worker.listenerCount('error') === 1) process.exit(0);
});
(async () => {
  const { tuneHeap } = await import('../dist/src/heap-tuning.js');
  tuneHeap();
  const { workerMain } = await import('../dist/src/worker/worker-main.js');
  await workerMain(process.env);
})().catch((err) => {
  process.stderr.write(`deimos-worker: ${err?.stack ?? err}\n`);
  process.exit(1);
});
