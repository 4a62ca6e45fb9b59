/**
 * A real `deimos-proxy` (or `deimos --proxy ...`) process for end-to-end tests: started on a free
 * loopback port, polled until it serves, ended by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { captureChild } from './child-output.js';
import { DEIMOS_BIN } from './deimos-process.js';
import { http } from './http.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait-for.js';

/** Path of the proxy binary in this checkout. */
export const PROXY_BIN = fileURLToPath(new URL('../../../packages/proxy/bin/deimos-proxy.js', import.meta.url));

/** How to start a proxy. */
export interface ProxyProcessOptions {
  /** Flags after --listen-client-urls (e.g. --endpoints ...). */
  args: string[];
  env?: Record<string, string>;
  /** Run `deimos --proxy ...` (the server binary) instead of `deimos-proxy`. */
  viaServer?: boolean;
  port?: number;
  /** Listen with https (pass the TLS flags in `args`); readiness is then read from the log. */
  https?: boolean;
  /** Run under this open-files limit (through `sh -c 'ulimit -n N && exec ...'`). */
  fdLimit?: number;
}

/** A running test proxy. */
export class ProxyProcess {
  output = '';
  exitCode: number | null = null;
  private readonly exited: Promise<void>;

  private constructor(readonly url: string, readonly child: ChildProcess) {
    this.exited = captureChild(child, 100_000, this, (code) => {
      this.exitCode = code;
    });
  }

  /** Starts a proxy and waits until it serves /metrics. */
  static async start(opts: ProxyProcessOptions): Promise<ProxyProcess> {
    const port = opts.port ?? (await freePorts(1))[0]!;
    const url = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`;
    const bin = opts.viaServer ? DEIMOS_BIN : PROXY_BIN;
    const command = [process.execPath, bin, '--listen-client-urls', url, ...opts.args];
    const options = { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
    // `exec` keeps the PID: the shell becomes the proxy.
    const child = opts.fdLimit === undefined
      ? spawn(command[0]!, command.slice(1), options)
      : spawn('/bin/sh', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, ...command], options);
    const p = new ProxyProcess(url, child);
    try {
      await waitFor(async () => {
        if (p.exitCode !== null) throw new Error(`deimos exited (proxy) with ${p.exitCode}:\n${p.output}`);
        if (opts.https) return p.output.includes('proxy serving');
        try {
          // A connection of its own, closed after: an idle pooled one would hold one of the slots of
          // a proxy started with a small --max-client-conns (the proxy keeps idle ones for minutes).
          return (await http('GET', `${url}/metrics`, { timeoutMs: 2_000, fresh: true })).status === 200;
        } catch {
          return false;
        }
      }, { timeoutMs: 20_000, what: 'the proxy to serve' });
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  /** The proxy's /metrics text. */
  async metrics(): Promise<string> {
    return (await http('GET', `${this.url}/metrics`, { fresh: true })).body;
  }

  /** Requests sent to `upstream` according to /metrics (0 when not listed). */
  async requestsTo(upstream: string): Promise<number> {
    const m = new RegExp(`deimos_proxy_upstream_requests_total\\{upstream="${upstream}"\\} (\\d+)`).exec(await this.metrics());
    return m ? Number(m[1]) : 0;
  }

  /** Upstream URLs currently in the proxy's member list. */
  async upstreams(): Promise<string[]> {
    return [...(await this.metrics()).matchAll(/deimos_proxy_upstream_up\{upstream="([^"]+)"\}/g)].map((m) => m[1]!).sort();
  }

  /** SIGTERM, then SIGKILL after a deadline. */
  async stop(): Promise<void> {
    if (this.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Runs a proxy command line that is expected to exit: code and output. */
  static async runOnce(args: string[], opts: { viaServer?: boolean; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [opts.viaServer ? DEIMOS_BIN : PROXY_BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, output };
  }
}
