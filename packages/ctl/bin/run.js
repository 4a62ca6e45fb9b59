#!/usr/bin/env node
// deimosctl entry point: oclif finds the compiled commands in dist/src/commands.
import { flush, handle, run } from '@oclif/core';
import { globalFlagsLast } from '../dist/src/argv.js';
import { ROOT_EXAMPLES, isRootHelp } from '../dist/src/root-help.js';

// etcdctl style `deimosctl -o json get /foo`: oclif wants flags after the command.
const args = globalFlagsLast(process.argv.slice(2));
try {
  await run(args, import.meta.url);
  await flush();
  if (isRootHelp(args)) process.stdout.write(ROOT_EXAMPLES);
} catch (err) {
  // Commands print their own errors and exit through oclif's ExitError (code EEXIT). Anything
  // else comes from oclif itself (an unknown command): one line, exit 1 (bad arguments).
  if (err?.code === 'EEXIT') await handle(err);
  process.stderr.write(`Error:  ${String(err?.message ?? err).split('\n')[0]}\n`);
  process.exit(1);
}
