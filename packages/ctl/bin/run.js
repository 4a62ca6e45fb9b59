#!/usr/bin/env node
// deimosctl entry point: oclif finds the compiled commands in dist/src/commands (through
// oclif.manifest.json when the build wrote one for this code). Only small modules are imported
// up front: oclif and got together take longer to load than Node takes to start.
import { fileURLToPath } from 'node:url';
import { VALUE_FLAGS, globalFlagsLast } from '../dist/src/argv.js';
import { applyEtcdctlEnv } from '../dist/src/etcdctl-env.js';
import { etcdctlArgv } from '../dist/src/etcdctl-argv.js';
import { etcdctlEndpointArgv } from '../dist/src/endpoint-precedence.js';
import { fastGet } from '../dist/src/fast-get.js';
import { dropStaleManifest } from '../dist/src/oclif-manifest.js';

// A reader that went away (`deimosctl watch --forever /k | head -1`) ends the command as it ends a
// Go program such as etcdctl, killed by SIGPIPE (status 141); node ignores SIGPIPE, and a watch
// went on writing into the closed pipe for ever.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(141);
  throw err;
});
// etcdctl's order among its endpoint flags and variables, read before the variables are copied.
const argv = etcdctlEndpointArgv(process.argv.slice(2), process.env);
applyEtcdctlEnv(process.env);
// etcdctl style `deimosctl -o json get /foo`: oclif wants flags after the command.
const args = globalFlagsLast(etcdctlArgv(argv));
// A plain `get` that succeeds is answered without oclif (see fast-get.ts); everything else, and
// any `get` it does not answer, runs the full way. DEIMOSCTL_NO_FAST_PATH=1 turns it off.
if (process.env.DEIMOSCTL_NO_FAST_PATH === '1' || !(await fastGet(args, process.env))) await runOclif();

async function runOclif() {
  const { flush, handle, run } = await import('@oclif/core');
  const { ROOT_EXAMPLES, isRootHelp } = await import('../dist/src/root-help.js');
  dropStaleManifest(fileURLToPath(new URL('..', import.meta.url)));
  try {
    await run(args, import.meta.url);
    await flush();
    if (isRootHelp(args)) process.stdout.write(ROOT_EXAMPLES);
  } catch (err) {
    // Commands print their own errors and exit through oclif's ExitError (code EEXIT). Anything
    // else comes from oclif itself (an unknown command): one line, exit 1 (bad arguments).
    if (err?.code === 'EEXIT') await handle(err);
    process.stderr.write(`Error:  ${await oclifErrorLine(err)}\n`);
    process.exit(1);
  }
}

/** oclif's own error in the user's words: an unknown command names what was typed, never oclif's `a:b` id. */
async function oclifErrorLine(err) {
  const message = String(err?.message ?? err).split('\n')[0];
  if (!/^command \S+ not found$/.test(message)) return message;
  const [{ Config }, { unknownCommandMessage }] = await Promise.all([import('@oclif/core'), import('../dist/src/unknown-command.js')]);
  const config = await Config.load(import.meta.url);
  return unknownCommandMessage({ argv: args, commandIds: config.commandIDs, valueFlags: VALUE_FLAGS });
}
