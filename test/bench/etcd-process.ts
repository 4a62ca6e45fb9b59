/**
 * A real etcd 3.4 member with the v2 API enabled, for side-by-side benchmarks: loopback ports, its own
 * temporary data directory, ended by PID. Mirrors test/support's DeimosProcess.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureChild } from '../support/child-output.js';
import { http, type TestTlsCredentials } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

/** Options of one etcd member. */
export interface EtcdProcessOptions {
  name: string;
  clientPort: number;
  peerPort: number;
  /** `name=peerURL,...`; defaults to this member alone. */
  initialCluster?: string;
  /** Raise the open-files limit of the server to this (through `sh -c 'ulimit -n N && exec ...'`). */
  fdLimit?: number;
  /** Run the member under `taskset -c <list>`; the PID stays etcd's. */
  cpuList?: string;
  /** Wait until the member answers (a multi-member cluster only answers once all are up). */
  waitReady?: boolean;
  /** Serve clients over https with this certificate (peers stay plain); `client` is what requests present. */
  tls?: { certFile: string; keyFile: string; client: TestTlsCredentials };
}

/** A running etcd member. */
export class EtcdProcess {
  output = '';
  exitCode: number | null = null;
  private exited: Promise<void> = Promise.resolve();
  private child: ChildProcess | undefined;

  private constructor(
    readonly name: string,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly dataDir: string,
    private readonly clientTls: TestTlsCredentials | undefined,
  ) {}

  /** The operating-system process id. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts a member (and by default waits until its v2 keys API answers). */
  static async start(binary: string, opts: EtcdProcessOptions): Promise<EtcdProcess> {
    const clientUrl = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${opts.clientPort}`;
    const peerUrl = `http://127.0.0.1:${opts.peerPort}`;
    const p = new EtcdProcess(opts.name, clientUrl, peerUrl, mkdtempSync(join(tmpdir(), 'deimos-bench-etcd-')), opts.tls?.client);
    const args = [
      ...(opts.tls ? ['--cert-file', opts.tls.certFile, '--key-file', opts.tls.keyFile] : []),
      '--enable-v2', '--name', opts.name, '--data-dir', p.dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', opts.initialCluster ?? `${opts.name}=${peerUrl}`,
      '--initial-cluster-state', 'new', '--log-level', 'warn',
    ];
    p.spawn(binary, args, opts.fdLimit, opts.cpuList);
    if (opts.waitReady ?? true) {
      try {
        await p.waitReady();
      } catch (err) {
        await p.destroy();
        throw err;
      }
    }
    return p;
  }

  private spawn(binary: string, args: string[], fdLimit: number | undefined, cpuList: string | undefined): void {
    if (cpuList) [binary, args] = ['taskset', ['-c', cpuList, binary, ...args]];
    const child = fdLimit === undefined
      ? spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = captureChild(child, 100_000, this, (code) => {
      this.exitCode = code;
    });
  }

  /** Polls until a quorum read of the root answers 200; fails at once if the member exits. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => this.exitCode !== null || (await this.answers()), { timeoutMs, what: `etcd ${this.name} to answer` });
    if (this.exitCode !== null) throw new Error(`etcd ${this.name} exited with ${this.exitCode}:\n${this.output.slice(-4000)}`);
  }

  private async answers(): Promise<boolean> {
    try {
      return (await http('GET', `${this.clientUrl}/v2/keys/?quorum=true`, { tls: this.clientTls, timeoutMs: 5_000 })).status === 200;
    } catch {
      return false; // not listening yet
    }
  }

  /** Kills the member by PID and removes its data directory. */
  async destroy(): Promise<void> {
    if (this.child && this.exitCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
