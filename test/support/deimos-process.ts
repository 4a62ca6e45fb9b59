/**
 * A real `deimos` process for end-to-end tests: started on free loopback ports with its own
 * temporary data directory, polled until it answers, and ended by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureChild } from './child-output.js';
import { http, type TestTlsCredentials } from './http.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait-for.js';

/** Path of the server binary in this checkout. */
export const DEIMOS_BIN = fileURLToPath(new URL('../../../packages/server/bin/deimos.js', import.meta.url));

/** Options of a test server. */
export interface DeimosProcessOptions {
  name?: string;
  /** Extra flags appended to the command line. */
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests); a fresh temp dir otherwise. */
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  /** Cluster list; defaults to this member alone. */
  bootstrapConfig?: string;
  /** Wait until the keys API answers (default); a multi-member cluster only answers once enough members run. */
  waitReady?: boolean;
  /**
   * Pass the standard flags (name, URLs, bootstrap config, data dir) as `DEIMOS_<FLAG>` environment
   * variables instead of on the command line (tests of the environment fallback); `args` stay flags.
   */
  flagsFromEnv?: boolean;
  /** Raise the server's open-files limit to this (through `sh -c 'ulimit -n N && exec ...'`). */
  fdLimit?: number;
  /** Run the server under `taskset -c <list>` (benchmarks); the PID stays the server's. */
  cpuList?: string;
  /** Scheme of the client URLs (default http; https needs TLS flags in `args`). */
  clientScheme?: 'http' | 'https';
  /** Scheme of the peer URLs (default http; https needs peer TLS flags in `args`). */
  peerScheme?: 'http' | 'https';
  /** What the test harness presents to an https client port (CA, and a client certificate if required). */
  clientTls?: TestTlsCredentials;
}

/** A running (or stopped) test server. */
export class DeimosProcess {
  child: ChildProcess | undefined;
  output = '';
  exitCode: number | null = null;
  /** stop() was called for the current process, so its exit is expected. */
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly name: string,
    readonly clientUrl: string,
    /** Changed by {@link restartAtPeerUrl}. */
    public peerUrl: string,
    readonly dataDir: string,
    /** Credentials for requests to an https client URL (pass as `http(..., { tls })`). */
    readonly clientTls: TestTlsCredentials | undefined,
    private readonly ownsDataDir: boolean,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    private readonly fdLimit?: number,
    private readonly cpuList?: string,
  ) {}

  /** The operating-system process id of the running server. */
  get pid(): number | undefined {
    return this.exitCode === null ? this.child?.pid : undefined;
  }

  /** Starts a server and waits until its keys API answers. */
  static async start(opts: DeimosProcessOptions = {}): Promise<DeimosProcess> {
    const [clientPort, peerPort] = opts.clientPort && opts.peerPort ? [opts.clientPort, opts.peerPort] : await freePorts(2);
    const name = opts.name ?? 'node1';
    const clientUrl = `${opts.clientScheme ?? 'http'}://127.0.0.1:${clientPort}`;
    const peerUrl = `${opts.peerScheme ?? 'http'}://127.0.0.1:${peerPort}`;
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'deimos-e2e-'));
    const standard: Array<[string, string]> = [
      ['name', name],
      ['listen-client-urls', clientUrl], ['advertise-client-urls', clientUrl],
      ['listen-peer-urls', peerUrl], ['advertise-peer-urls', peerUrl],
      ['bootstrap-config', opts.bootstrapConfig ?? `${name}=${peerUrl}`],
      ['data-dir', dataDir],
    ];
    const env = { ...opts.env };
    const args = opts.flagsFromEnv ? [...(opts.args ?? [])] : [...standard.flatMap(([flag, value]) => [`--${flag}`, value]), ...(opts.args ?? [])];
    if (opts.flagsFromEnv) {
      for (const [flag, value] of standard) env[`DEIMOS_${flag.toUpperCase().replace(/-/g, '_')}`] = value;
    }
    const p = new DeimosProcess(name, clientUrl, peerUrl, dataDir, opts.clientTls, opts.dataDir === undefined, args, env, opts.fdLimit, opts.cpuList);
    p.spawn();
    if (opts.waitReady ?? true) {
      try {
        await p.waitReady();
      } catch (err) {
        await p.destroy(); // no orphaned process or temp dir when it never came up
        throw err;
      }
    }
    return p;
  }

  private spawn(): void {
    // taskset execs the server, so the PID stays the server's as with the shell's `exec`.
    const command = [...(this.cpuList ? ['taskset', '-c', this.cpuList] : []), process.execPath, DEIMOS_BIN, ...this.args];
    const options = { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
    // `exec` keeps the PID: the shell becomes the server.
    const child = this.fdLimit === undefined
      ? spawn(command[0]!, command.slice(1), options)
      : spawn('/bin/sh', ['-c', `ulimit -n ${this.fdLimit} && exec "$0" "$@"`, ...command], options);
    this.child = child;
    this.exitCode = null;
    this.stopping = false;
    this.exited = captureChild(child, 200_000, this, (code, signal) => {
      this.exitCode = code;
      // A member that fails on its own (a crash) would otherwise only show up as refused connections
      // in whatever the test does next: its last output goes to the test's stderr, where CI keeps it.
      if (!this.stopping && signal === null && code !== 0) {
        process.stderr.write(`\ndeimos ${this.name} exited by itself with code ${code}; its last output:\n${this.output.slice(-8_000)}\n`);
      }
    });
  }

  /** Polls until the keys API answers (any HTTP response), or fails with the server's output. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      if (this.exitCode !== null) throw new Error(`deimos exited with ${this.exitCode}:\n${this.output}`);
      try {
        const res = await http('GET', `${this.clientUrl}/v2/keys/?quorum=true`, { timeoutMs: 5_000, tls: this.clientTls });
        return res.status === 200;
      } catch {
        return false;
      }
    }, { timeoutMs, what: `deimos ${this.name} to answer` });
  }

  /** Sends a signal and waits for the exit (SIGKILL after a deadline). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || this.exitCode !== null) return;
    this.stopping = true;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  /** Starts the same member again on the same ports and data directory. */
  async restart(): Promise<void> {
    await this.stop();
    this.spawn();
    await this.waitReady();
  }

  /** Starts the same member again without waiting until it answers (what a client sees while it starts). */
  async relaunch(): Promise<void> {
    await this.stop();
    this.spawn();
  }

  /**
   * Starts the member again listening for peers at `url` (after its peer URLs were updated to it
   * through the members API); the flags are added after the others, and the last value of a flag wins.
   */
  async restartAtPeerUrl(url: string): Promise<void> {
    await this.stop();
    this.args.push('--listen-peer-urls', url, '--advertise-peer-urls', url);
    this.peerUrl = url;
    this.spawn();
    await this.waitReady();
  }

  /** Resolves when the process has exited. */
  waitExit(): Promise<void> {
    return this.exited;
  }

  /** Stops the server and removes its data directory if the test did not provide it. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Runs the server's command line with different arguments (for flag tests): exit code and output. */
  static async runOnce(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [DEIMOS_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`deimos ${args.join(' ')} did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }
}
