import { Flags } from '@oclif/core';
import { DeimosCommand } from '../base-command.js';
import { usageError } from '../ctl-error.js';
import { afterIndexOption, exitOnSignal } from '../watch-options.js';
import type { FormattableResponse } from '../format.js';
import { startCommand } from '../run-command.js';
import type { ChildProcess } from 'node:child_process';

/** Most commands running at once; a slower command stream holds the watch back instead of piling up processes. */
const MAX_RUNNING = 32;

/** The environment a watch command runs with: etcdctl's ETCD_WATCH_* names and the DEIMOS_WATCH_* aliases. */
export function watchEnv(resp: FormattableResponse): Record<string, string> {
  const vars = {
    ACTION: resp.action,
    KEY: resp.node?.key ?? '',
    VALUE: resp.node?.value ?? '',
    MODIFIED_INDEX: String(resp.node?.modifiedIndex ?? 0),
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    env[`ETCD_WATCH_${name}`] = value;
    env[`DEIMOS_WATCH_${name}`] = value;
  }
  return env;
}

/** `deimosctl exec-watch <key> -- <command...>`: runs a command on every change of a key. */
export default class ExecWatch extends DeimosCommand<typeof ExecWatch> {
  static override summary = 'Watch a key for changes and exec a command on each change.';
  static override description = 'The command gets ETCD_WATCH_ACTION, ETCD_WATCH_KEY, ETCD_WATCH_VALUE and '
    + 'ETCD_WATCH_MODIFIED_INDEX (also DEIMOS_WATCH_*) in its environment. As with etcdctl, each command starts when its '
    + `event arrives without waiting for earlier ones (at most ${MAX_RUNNING} at a time); a command that cannot be started ends exec-watch with exit 1 (as lock -- CMD). `
    + 'Without `--`, the key is the last argument (etcdctl\'s `exec-watch CMD... KEY`).';
  static override examples = [
    '<%= config.bin %> exec-watch /foo -- sh -c \'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY=$ETCD_WATCH_VALUE"\'',
    '<%= config.bin %> exec-watch --recursive /services -- ./reload.sh',
    '<%= config.bin %> exec-watch --after-index 42 /foo -- ./on-change.sh',
  ];
  static override usage = [
    'exec-watch [FLAGS] KEY -- COMMAND [ARG...]',
    'exec-watch [FLAGS] COMMAND [ARG...] KEY',
  ];
  static override strict = false;
  static override passThrough = true;
  static override flags = {
    'after-index': Flags.integer({ description: 'watch for changes after this index', min: 0 }),
    recursive: Flags.boolean({ char: 'r', description: 'watch every key under the directory' }),
  };

  async run(): Promise<void> {
    const { key, command } = this.keyAndCommand();
    // A command still running gets SIGTERM when deimosctl is stopped (left running, it printed
    // after deimosctl had ended; a terminal's Ctrl-C reaches it anyway through the process group).
    const children = new Set<ChildProcess>();
    exitOnSignal(() => {
      for (const child of children) child.kill('SIGTERM');
    });
    const events = this.client().watch(key, { recursive: this.flags.recursive, endWhenUnavailable: true, ...afterIndexOption(this.flags['after-index']) });
    const running = new Set<Promise<void>>();
    for await (const resp of events) {
      if (resp.node?.dir) {
        process.stderr.write(`Ignored dir ${resp.node.key ?? ''} change\n`);
        continue;
      }
      // Bounded: past the limit the watch waits (it resumes from its index, so nothing is lost).
      while (running.size >= MAX_RUNNING) await Promise.race(running);
      const run = startOnce(command, watchEnv(resp), children).finally(() => running.delete(run));
      running.add(run);
    }
  }

  private keyAndCommand(): { key: string; command: string[] } {
    const positional = this.argvPositional.filter((a) => a !== '--');
    if (this.passThrough.length > 0 && positional.length === 1) return { key: positional[0]!, command: this.passThrough };
    if (this.passThrough.length === 0 && positional.length >= 2) return { key: positional.at(-1)!, command: positional.slice(0, -1) };
    throw usageError('key and command to exec required');
  }
}

/**
 * Starts one command with the watch environment and shared stdio; the promise settles when it ends.
 * A command that cannot be started (missing, not executable) ends deimosctl with the same line and
 * exit code as `lock -- CMD` (exit 1, as etcdctl's exec-watch).
 */
async function startOnce(command: string[], env: Record<string, string>, children: Set<ChildProcess>): Promise<void> {
  const running = startCommand(command, env);
  children.add(running.child);
  const code = await running.exited;
  children.delete(running.child);
  if (running.startError) process.exit(code);
}
