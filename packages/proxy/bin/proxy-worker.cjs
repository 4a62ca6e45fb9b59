#!/usr/bin/env node
// A worker of deimos-proxy (or of `deimos --proxy`) with --client-workers: runs the program named
// after it with the arguments after that, as node:cluster's default would run the primary's own.
'use strict';
const cluster = require('node:cluster');
const { pathToFileURL } = require('node:url');

// Node tells the primary 'online' as a cluster worker starts. A primary already gone (killed while
// it started its workers) fails that message with EPIPE, an 'error' of the worker object emitted
// before an ES module entry could listen, which without a listener ends the process with a stack
// trace in the proxy's output. It only means there is nothing to serve: exit quietly. This entry
// is CommonJS so that the listener is in place before that error is emitted; the program adds its
// own once it runs, and this one then leaves the going to it.
cluster.worker?.on('error', () => {
  if (cluster.worker.listenerCount('error') === 1) process.exit(0);
});
const program = process.argv[2];
if (program === undefined) {
  process.stderr.write('proxy-worker: started by a proxy with --client-workers, not by hand\n');
  process.exit(1);
}
process.argv.splice(1, 1);
import(pathToFileURL(program).href).catch((err) => {
  process.stderr.write(`proxy-worker: ${err?.stack ?? err}\n`);
  process.exit(1);
});
