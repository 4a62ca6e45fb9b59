/**
 * Running the real `deimosctl` binary in end-to-end tests: once to completion (exit code and output),
 * or in the background (watch, lock, elect) with its output collected for polling.
 */
import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeimosProcess } from '../support/deimos-process.js';
import { waitFor } from '../support/wait-for.js';

/** Path of the deimosctl entry point in this checkout. */
export const CTL_BIN = fileURLToPath(new URL('../../../packages/ctl/bin/run.js', import.meta.url));

/** Options of one deimosctl run. */
export interface CtlOptions {
  /** Written to stdin, then stdin is closed (stdin is closed at once when absent). */
  input?: string | Buffer;
  /** Redirect stdin from this file (`deimosctl ... < file`) instead of a pipe; `input` is then ignored. */
  stdinFile?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

/** The outcome of one run. */
export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a test run: no inherited DEIMOSCTL_* or colour settings. */
function ctlEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('DEIMOSCTL_ENDPOINTS' in extra)) delete env.DEIMOSCTL_ENDPOINTS;
  delete env.FORCE_COLOR;
  return env;
}

/** Runs `deimosctl args...` to completion. */
export function ctl(args: string[], opts: CtlOptions = {}): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    const fd = opts.stdinFile !== undefined ? openSync(opts.stdinFile, 'r') : undefined;
    const child = spawn(process.execPath, [CTL_BIN, ...args], { env: ctlEnv(opts.env), cwd: opts.cwd, stdio: [fd ?? 'pipe', 'pipe', 'pipe'] });
    if (fd !== undefined) closeSync(fd); // the child holds its own copy
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    // A child that exits before reading all of its input (it must not read stdin at all for most
    // commands) makes the pipe fail with EPIPE: that is not a test failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`deimosctl ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A deimosctl process running in the background. */
export class CtlProcess {
  stdout = '';
  stderr = '';
  code: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess, readonly args: string[]) {
    child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.code = code ?? (signal ? 128 : null);
      resolve(this.code);
    }));
  }

  /** Starts `deimosctl args...` in the background. */
  static start(args: string[], opts: CtlOptions = {}): CtlProcess {
    const child = spawn(process.execPath, [CTL_BIN, ...args], { env: ctlEnv(opts.env), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    return new CtlProcess(child, args);
  }

  /** Polls until stdout matches `pattern`. */
  async waitForStdout(pattern: RegExp | ((out: string) => boolean), timeoutMs = 20_000): Promise<void> {
    const test = typeof pattern === 'function' ? pattern : (out: string) => pattern.test(out);
    await waitFor(() => {
      if (test(this.stdout)) return true;
      if (this.code !== undefined) throw new Error(`deimosctl ${this.args.join(' ')} exited with ${this.code}: ${this.stdout}${this.stderr}`);
      return false;
    }, { timeoutMs, what: `deimosctl ${this.args.join(' ')} to print ${String(pattern)} (so far: ${JSON.stringify(this.stdout)})` });
  }

  /** Sends a signal and waits for the exit (SIGKILL after a deadline). */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<number | null> {
    if (this.code !== undefined) return this.code;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** The fixture of the single-member deimosctl tests: a running member, its `--endpoints` flag and a temp dir. */
export interface CtlFixture {
  server: DeimosProcess;
  /** `['--endpoints', <the member's client URL>]`. */
  ep: string[];
  dir: string;
}

/**
 * Registers `before`/`after` hooks that start one member and make a temporary directory named with
 * `tmpPrefix`; the returned object is filled in by `before` (use its fields inside tests).
 */
export function memberAndTempDir(tmpPrefix: string): CtlFixture {
  const f = {} as CtlFixture;
  before(async () => {
    f.server = await DeimosProcess.start();
    f.ep = ['--endpoints', f.server.clientUrl];
    f.dir = mkdtempSync(join(tmpdir(), tmpPrefix));
  });
  after(async () => {
    await f.server?.destroy();
    if (f.dir) rmSync(f.dir, { recursive: true, force: true });
  });
  return f;
}
