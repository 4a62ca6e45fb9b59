/**
 * One seeded run of the front end: the real ClientHub (primary side) and real RemoteMembers
 * (workers) over seeded links, the real Store behind a consensus stand-in, and clients that each
 * run operations one after another through their worker's routes (answerGet/answerWrite, and
 * watches through `keys.watch`). Workers crash at seeded points (their links are broken, as a kill
 * -9 does) and are replaced; their clients go on through the replacement. Returns what the run saw
 * and the violations found (see sim-history.ts).
 */
import assert from 'node:assert/strict';
import { ClientHub } from '../../../src/member/client-hub.js';
import { loadServerConfig, type ServerConfig } from '../../../src/config/server-config.js';
import { MemoryBackend, Store, type Watcher } from '../../../src/store/index.js';
import { createLogger } from '../../../src/util/logger.js';
import { RemoteMember } from '../../../src/worker/remote-member.js';
import { answerGet, answerWrite, type WriteKeysRequest } from '../../../src/routes/keys-route.js';
import { BigReads } from '../../../src/routes/big-reads.js';
import type { ResponseParts } from '../../../src/http/write-response.js';
import { FrontRng, turns } from './sim-rng.js';
import { simLink, type LinkShape } from './sim-link.js';
import { SimConsensus, type ConsensusShape } from './sim-consensus.js';
import { checkHistory, type OpRecord, type WatchRecord } from './sim-history.js';

export interface FrontSimOptions {
  seed: number;
  workers: number;
  clients: number;
  opsPerClient: number;
  keys: number;
  /** Chance, before each operation, that a random worker crashes. */
  crashChance: number;
  /** Chance, before each operation, that the primary reloads its keyspace (a snapshot install). */
  resetChance: number;
  link: LinkShape;
  consensus: ConsensusShape;
}

export const DEFAULT_FRONT_SIM: Omit<FrontSimOptions, 'seed'> = {
  workers: 3,
  clients: 6,
  opsPerClient: 60,
  keys: 4,
  crashChance: 0.01,
  resetChance: 0.003,
  link: { maxPieces: 3, maxDelayTurns: 3 },
  consensus: { maxCommitTurns: 4, maxReadTurns: 4 },
};

export interface FrontSimReport {
  ops: OpRecord[];
  watches: WatchRecord[];
  crashes: number;
  resets: number;
  applied: number;
  problems: string[];
}

const logger = createLogger('error', 'front-sim', () => {});

function serverConfig(): ServerConfig {
  const r = loadServerConfig([], {}, '/tmp');
  assert.equal(r.kind, 'run');
  return (r as { config: ServerConfig }).config;
}

/** A worker of the run: its RemoteMember, and whether its channel closed. */
interface SimWorker {
  id: number;
  member: RemoteMember;
  closed: boolean;
  dead: Promise<void>;
  breakLink: () => void;
}

export async function runFrontSimulation(o: FrontSimOptions): Promise<FrontSimReport> {
  // Separate streams, so that each client's choices (its operations, and the crashes and resets
  // it triggers) are fixed by the seed whatever the interleaving: the hub's status pushes run on
  // wall-clock timers, so two runs of a seed need not interleave alike.
  const stream = (purpose: number): FrontRng => new FrontRng(o.seed * 7919 + purpose);
  const store = new Store({ backend: new MemoryBackend() });
  const consensus = new SimConsensus(store, stream(1), o.consensus);
  const hub = new ClientHub({ member: consensus.member, store, logger, isReady: () => true });
  const config = serverConfig();
  const ops: OpRecord[] = [];
  const watches: Array<WatchRecord & { watcher: Watcher }> = [];
  const problems: string[] = [];
  let clock = 0;
  let nextWorkerId = 0;
  let crashes = 0;

  const startWorker = (): SimWorker => {
    const id = nextWorkerId++;
    const linkRng = stream(1000 + id);
    const [primarySide, workerSide] = simLink(linkRng, o.link);
    hub.attach(primarySide);
    let markDead!: () => void;
    const w: SimWorker = {
      id,
      closed: false,
      dead: new Promise<void>((r) => (markDead = r)),
      member: undefined as unknown as RemoteMember,
      breakLink: () => (linkRng.chance(0.5) ? primarySide : workerSide).destroy(),
    };
    w.member = new RemoteMember({ socket: workerSide, config, logger, onClose: () => { w.closed = true; markDead(); } });
    return w;
  };
  const workers: SimWorker[] = Array.from({ length: o.workers }, startWorker);
  const clientWorker = Array.from({ length: o.clients }, (_, c) => c % o.workers);

  const crash = (slot: number): void => {
    crashes++;
    workers[slot]!.breakLink();
    workers[slot] = startWorker();
  };

  /** Runs `req` through worker `w`'s routes; undefined when the worker went away first. */
  const ask = async (w: SimWorker, req: unknown, write: boolean): Promise<ResponseParts | undefined> => {
    const answered = new Promise<ResponseParts>((resolve) => {
      const reply = (p: ResponseParts): void => {
        if (w.closed) problems.push(`worker ${w.id} answered after its channel closed: ${String(p.body).slice(0, 80)}`);
        resolve(p);
      };
      if (write) void answerWrite(w.member, req as WriteKeysRequest, reply);
      else void answerGet(w.member, req as Parameters<typeof answerGet>[1], reply, new BigReads());
    });
    return Promise.race([answered, w.dead.then(() => undefined)]);
  };

  const value = (c: number, n: number): string => `c${c}n${n}`;
  const client = async (c: number): Promise<void> => {
    const rng = stream(100 + c);
    // Faults from a stream of their own, three draws per step: their number is the seed's alone.
    const faults = stream(200 + c);
    const key = (): string => `/sim/k${rng.int(o.keys)}`;
    for (let n = 0; n < o.opsPerClient; n++) {
      const crashes = faults.chance(o.crashChance);
      const target = faults.int(workers.length);
      if (crashes) crash(target);
      if (faults.chance(o.resetChance)) consensus.reset();
      const slot = clientWorker[c]!;
      const w = workers[slot]!;
      await Promise.race([w.member.started, w.dead]);
      if (w.closed) continue;
      const roll = rng.next();
      const k = key();
      if (roll < 0.08) {
        await watch(c, w, rng);
        continue;
      }
      const op: OpRecord = { client: c, worker: w.id, kind: '', key: k, invokedAt: clock++ };
      let req: Record<string, unknown>;
      const common = { path: k, refresh: false, noValueOnSuccess: false };
      if (roll < 0.45) {
        op.kind = 'get';
        req = { kind: 'get', path: k, head: false, recursive: false, sorted: false, quorum: false, serializable: rng.chance(0.5) };
      } else {
        const kinds = ['set', 'set', 'create', 'update', 'compareAndSwap', 'compareAndSwap', 'delete', 'compareAndDelete'] as const;
        op.kind = rng.pick(kinds);
        const prev = value(rng.int(o.clients), rng.int(Math.max(1, n)));
        if (op.kind === 'delete') req = { kind: 'delete', path: k, dir: false, recursive: false };
        else if (op.kind === 'compareAndDelete') req = { kind: 'compareAndDelete', path: k, prevValue: (op.prevValue = prev) };
        else {
          op.value = value(c, n);
          req = { kind: op.kind, ...common, value: op.value, dir: false, unique: false };
          if (op.kind === 'compareAndSwap') req.prevValue = op.prevValue = prev;
        }
      }
      ops.push(op);
      const parts = await ask(w, req, op.kind !== 'get');
      if (parts === undefined) continue;
      op.completedAt = clock++;
      op.status = parts.status;
      op.etcdIndex = Number(parts.headers[parts.headers.indexOf('X-Etcd-Index') + 1]);
      op.body = JSON.parse(String(parts.body)) as OpRecord['body'];
      if (rng.chance(0.2)) await turns(rng.int(3));
    }
  };

  /** Opens a stream watch on /sim (recursive), from a recent index or from now. */
  const watch = async (c: number, w: SimWorker, rng: FrontRng): Promise<void> => {
    const since = rng.chance(0.5) ? Math.max(1, store.index - rng.int(10)) : undefined;
    const opened = Promise.resolve(w.member.keys.watch('/sim', { recursive: true, stream: true, sinceIndex: since, bufferSize: 1_000_000 }));
    let watcher: Watcher | undefined;
    try {
      watcher = await Promise.race([opened, w.dead.then(() => undefined)]);
    } catch (err) {
      problems.push(`watch from ${since} on worker ${w.id} failed: ${(err as Error).message}`);
      return;
    }
    if (watcher === undefined) return;
    watches.push({ client: c, worker: w.id, fromIndex: since ?? watcher.startIndex + 1, got: [], ended: false, watcher });
  };

  await Promise.all(workers.map((w) => w.member.started));
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  await consensus.settled();
  // Quiet: every live worker has the whole stream, so every live watch has had every event.
  const live = workers.filter((w) => !w.closed);
  for (let i = 0; live.some((w) => w.member.keys.index !== store.index); i++) {
    if (i > 10_000) throw new Error(`seed ${o.seed}: workers never caught up with index ${store.index}`);
    await turns(1);
  }
  // A watch from an index older than its worker's window waits for the primary's history answer,
  // whose round trip over two seeded links can take some 20 turns: give every such answer time.
  await turns(200);
  for (const w of watches) {
    w.got = w.watcher.take();
    const owner = workers.find((x) => x.id === w.worker);
    const ownerLive = owner !== undefined && !owner.closed;
    // A watch on a crashed worker is cut wherever it was (its process and connection are gone).
    w.ended = w.watcher.closed || !ownerLive;
    // A reset ends every watch as cleared; nothing else may end a live worker's watch here.
    const cleared = w.watcher.closeReason === 'cleared' && consensus.resets > 0;
    if (w.watcher.closed && ownerLive && !cleared) problems.push(`watch of client ${w.client} on live worker ${w.worker} ended (${w.watcher.closeReason})`);
  }
  hub.close();
  for (const w of workers) w.breakLink();
  problems.push(...checkHistory(ops, watches, consensus.events));
  return { ops, watches, crashes, resets: consensus.resets, applied: consensus.events.length, problems };
}
