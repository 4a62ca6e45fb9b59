/**
 * One `deimos` member process of a chaos cluster: its ports (client, public peer = the proxy,
 * private peer = its real listener), data directory and log file, and the process-level faults
 * (kill -9, SIGSTOP/SIGCONT, restart with a different environment), and the same for one of its
 * client worker processes (`--client-workers`), found as the member's child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { DEIMOS_BIN } from '../support/deimos-process.js';
import type { SmallDisk } from '../support/small-disk.js';

/** How long a member's workers may live on after it was killed. */
const ORPHAN_GRACE_MS = 5_000;

/** Whether `pid` is a live process (not gone, not a zombie). */
function isLiveProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state is the field after the parenthesised command name.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Ports of one member on 127.0.0.1. */
export interface MemberPorts {
  client: number;
  /** The advertised peer port: the fault proxy listens here. */
  publicPeer: number;
  /** The member's own peer listener behind the proxy. */
  privatePeer: number;
}

/** How to launch a member. */
export interface LaunchOptions {
  bootstrapConfig: string;
  clusterState: 'new' | 'existing';
  /** Extra environment (test flags such as DEIMOS_TEST_FSYNC_DELAY_MS). */
  env?: Record<string, string>;
  /** Extra flags (timeouts, snapshot count). */
  args: string[];
  /** Lower the process's open-files limit to this (`ulimit -n`; kept as it is where that fails). */
  fdLimit?: number;
}

/** A member of a chaos cluster; see the module comment. */
export class ChaosMember {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;
  /** Incremented per data directory (a removed and re-added member starts from an empty one). */
  private generation = 0;
  paused = false;
  /** The raft member ID (hex), once known. */
  id: string | undefined;
  /** The environment of the current process, for the run log. */
  env: Record<string, string> = {};

  constructor(
    readonly name: string,
    readonly ports: MemberPorts,
    private readonly workDir: string,
    /** The member's own small disk, holding its data directories (for the disk-full fault). */
    readonly disk?: SmallDisk,
  ) {}

  get clientUrl(): string {
    return `http://127.0.0.1:${this.ports.client}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.ports.publicPeer}`;
  }

  get dataDir(): string {
    return join(this.disk?.dir ?? this.workDir, `${this.name}.data.${this.generation}`);
  }

  get logPath(): string {
    return join(this.workDir, `${this.name}.log`);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process (does not wait for it to serve). */
  launch(opts: LaunchOptions): void {
    if (this.child) throw new Error(`assertion failed: ${this.name} is already running`);
    mkdirSync(this.workDir, { recursive: true });
    this.log ??= createWriteStream(this.logPath, { flags: 'a' });
    this.env = { ...opts.env };
    const args = [
      DEIMOS_BIN,
      '--name', this.name,
      '--listen-client-urls', this.clientUrl, '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', `http://127.0.0.1:${this.ports.privatePeer}`, '--advertise-peer-urls', this.peerUrl,
      '--bootstrap-config', opts.bootstrapConfig,
      '--initial-cluster-state', opts.clusterState,
      '--data-dir', this.dataDir,
      ...opts.args,
    ];
    this.log.write(`\n=== ${new Date().toISOString()} chaos: launch ${this.name} (${opts.clusterState}) env=${JSON.stringify(this.env)}\n`);
    const options = { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
    // `exec` keeps the PID, so kill -9 and SIGSTOP reach the member itself.
    const child = opts.fdLimit === undefined
      ? spawn(process.execPath, args, options)
      : spawn('/bin/sh', ['-c', `ulimit -n ${opts.fdLimit} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...args], options);
    this.child = child;
    this.paused = false;
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.log?.write(`=== ${new Date().toISOString()} chaos: ${this.name} exited code=${code} signal=${signal}\n`);
      if (this.child === child) this.child = undefined;
      resolve();
    }));
  }

  /** Notes a harness action in the member's log, so the log reads alongside the fault schedule. */
  note(text: string): void {
    this.log?.write(`=== ${new Date().toISOString()} chaos: ${text}\n`);
  }

  /**
   * kill -9 (a paused process is killed too) and waits for the exit. Its client workers must exit
   * by themselves once their channel closes: any still alive after {@link ORPHAN_GRACE_MS} are
   * killed here and returned (a worker that outlives its member would hold the client port).
   */
  async kill(): Promise<number[]> {
    const child = this.child;
    if (!child) return [];
    const workers = this.workerPids();
    child.kill('SIGKILL');
    await this.exited;
    this.paused = false;
    const deadline = Date.now() + ORPHAN_GRACE_MS;
    let alive = workers;
    while (alive.length > 0) {
      alive = alive.filter(isLiveProcess);
      if (alive.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const pid of alive) {
      this.note(`worker ${pid} still running ${ORPHAN_GRACE_MS} ms after its member was killed; killed`);
      this.signalWorker(pid, 'SIGCONT');
      this.signalWorker(pid, 'SIGKILL');
    }
    return alive;
  }

  /** SIGSTOP. */
  pause(): void {
    if (!this.child || this.paused) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT. */
  resume(): void {
    if (!this.child || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /**
   * Process IDs of the member's live child processes (its client workers), from
   * `/proc/<pid>/task/<tid>/children`; zombies (exited, not yet reaped) are left out. Empty when
   * the member is not running or /proc is not there.
   */
  workerPids(): number[] {
    const pid = this.child?.pid;
    if (pid === undefined) return [];
    const pids = new Set<number>();
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
    for (const tid of tasks) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/)) if (c !== '') pids.add(Number(c));
      } catch {
        // the thread ended meanwhile
      }
    }
    return [...pids].filter(isLiveProcess).sort((a, b) => a - b);
  }

  /** Sends `signal` to one of this member's worker processes (kill-worker, pause-worker faults). */
  signalWorker(workerPid: number, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
    try {
      process.kill(workerPid, signal);
    } catch (err) {
      // Gone already (a crashed worker, or the member killed meanwhile): nothing to signal.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** Resolves when the current process exits. */
  waitExit(): Promise<void> {
    return this.exited;
  }

  /** Switches to a fresh, empty data directory (for re-adding a removed member). */
  freshDataDir(): void {
    this.generation += 1;
  }

  /** Closes the log file (after the process has gone). */
  async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}
