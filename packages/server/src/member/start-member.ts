/**
 * Builds a member from its configuration: data directory and lock, state database, WAL, raft core,
 * loop, HTTP listeners, and the leader's TTL sweep. The only place these real parts are wired.
 */
import { LogThrottle } from '../util/log-throttle.js';
import { InvalidPeerMessageError } from '@deimos/raft';
import { AuthState } from '../auth/auth-state.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MessageType, type ConfState } from '@deimos/protocol';
import { MemoryStorage, RawNode, StateType } from '@deimos/raft';
import { FlagError } from '../config/flag-parser.js';
import type { ServerConfig } from '../config/server-config.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { RaftLoop } from '../raft-node/raft-loop.js';
import { RequestTimeoutError, WaitRegistry } from '../raft-node/wait-registry.js';
import { SERVER_STOPPED } from './timeout-cause.js';
import { SqliteBackend, Store } from '../store/index.js';
import { Wal, loadRaftStorage } from '../wal/index.js';
import { lockDataDir } from '../util/dir-lock.js';
import { handOverLeadership } from './leadership-handover.js';
import type { Logger } from '../util/logger.js';
import { seededRng } from '../util/seeded-rng.js';
import { Applier } from './applier.js';
import { Compactor } from './compactor.js';
import { checkLogAgainstDatabase, installCutShort } from './check-log-against-database.js';
import type { ApplyResult } from './apply-result.js';
import { Member } from './member.js';
import { Membership } from './membership.js';
import { listenClients, listenPeers, type Listeners } from './listeners.js';
import { createClientApi } from '../routes/router.js';
import { gateUntilReady } from '../routes/ready-gate.js';
import { sendJson } from '../routes/respond.js';
import { discoverCluster } from '../cluster/join.js';
import { PeerTransport, PROBING_PATH, removeIncompleteSnapshots } from '../transport/index.js';
import { estimateMessageBytes } from '../transport/send-queue.js';
import { openSnapshotForSend, restoreFromSnapshot, snapshotDir } from './snapshot-files.js';
import { SnapshotPreloads } from './snapshot-preloads.js';
import { LostEntriesWatch } from './lost-entries-watch.js';
import { registerMemberMetrics } from './member-metrics.js';
import { TlsSide } from '../tls/tls-side.js';
import { ConnectionGate, registerConnectionLimit } from '../http/connection-gate.js';
import { reloadTlsSides } from '../tls/reload.js';
import { isNoSpaceError, NoSpaceError } from '../util/no-space.js';
import { DiskSpaceAlarm } from './disk-space-alarm.js';
import { danglingLinkTarget, prepareDataDir } from './data-dir.js';
import { readStoredBootstrap, writeStoredBootstrap, type StoredBootstrap } from './stored-bootstrap.js';
import { namesEveryRaftMember, reconcileWithStored, restartMembers } from './restart-config.js';
import { ClientHub } from './client-hub.js';
import { WorkerPool } from '../worker/worker-pool.js';

/**
 * How far each WAL segment is zero-filled ahead of its last record (see WalOptions.preallocateBytes):
 * one slower fdatasync per MiB of log (it flushes the new blocks and the file size), then data-only
 * ones. Single-client writes measured 4.5-16 % faster with it (one node, 5 alternating runs).
 */
export const WAL_PREALLOCATE_BYTES = 1024 * 1024;

/** etcd's buckets for its disk histograms (1 ms doubling 14 times) and peer round trips (0.1 ms doubling 16 times), so queries written for etcd read the same bounds. */
const ETCD_DISK_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);
const ETCD_RTT_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.0001 * 2 ** i);

/** How often the leader proposes a TTL sweep when keys are due. */
const SYNC_INTERVAL_MS = 500;
/** How often a member retries publishing its attributes until they are applied. */
const PUBLISH_RETRY_MS = 250;
/** How long a member joining a running cluster keeps asking its members before giving up. */
const JOIN_DEADLINE_MS = 30_000;
/** Most requests waiting for consensus at once; more fail fast instead of queueing without bound. */
const MAX_PENDING_PROPOSALS = 100_000;
/** Ticks a member removed from the cluster keeps running, so that its answer to that DELETE gets out. */
const REMOVED_STOP_TICKS = 10;

/** A started member and how to stop it. */
export interface RunningMember {
  member: Member;
  /** Stops the member; with `handOver` (a stop asked for, not a failure) a leader first hands its leadership over. */
  stop(options?: { handOver?: boolean }): Promise<void>;
  onFatal(listener: (err: Error) => void): void;
  /** Re-reads certificates and keys from disk (SIGHUP); a failure is logged and the old ones stay. */
  reloadTls(): void;
}

/**
 * Starts a member; throws an operational error (with `code`) when it cannot. `stopping` ends a
 * join still waiting for the cluster (SIGTERM while starting), which then fails like a join that
 * found no one: its new data directory is taken back.
 */
export async function startMember(given: ServerConfig, logger: Logger, stopping?: AbortSignal): Promise<RunningMember> {
  let config = given;
  // Certificates are checked before anything touches the data directory.
  const clientTls = config.clientTls && new TlsSide(config.clientTls, 'client');
  const peerTls = config.peerTls && new TlsSide(config.peerTls, 'peer');
  const dataDir = prepareDataDir(config.dataDir);
  const lock = lockDataDir(config.dataDir);
  if (dataDir.openPermissions !== undefined) logger.warn(dataDir.openPermissions);
  const fatalListeners: Array<(err: Error) => void> = [];
  const metrics = new MetricsRegistry();
  const fsyncSeconds = metrics.histogram('deimos_wal_fsync_duration_seconds', 'Latency of WAL fdatasync calls.');
  // The same under etcd's names (dashboards and alerts made for etcd read these).
  const etcdFsyncSeconds = metrics.histogram('etcd_disk_wal_fsync_duration_seconds', 'The latency distributions of fsync called by WAL.', ETCD_DISK_BUCKETS);
  const leaderChanges = metrics.counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.');
  const commitSeconds = metrics.histogram('etcd_disk_backend_commit_duration_seconds', 'The latency distributions of commit called by backend.', ETCD_DISK_BUCKETS);
  // As etcd: every member probes every peer and samples the smoothed round trip (transport/peer-prober.ts).
  const peerRoundTrip = metrics.histogram('etcd_network_peer_round_trip_time_seconds', 'Round-Trip-Time histogram between peers.', ETCD_RTT_BUCKETS);
  let lastLeader = '0';
  /** The leader of the last soft state ('0': none). */
  let softLeader = '0';
  // Tried again while raised: the held raft Ready first (entries already accepted), then the WAL's
  // room ahead (what keeps raft writing and reads served), then the database written behind.
  const spaceAlarm = new DiskSpaceAlarm({
    logger,
    recover: () => {
      if (!loop.retryHeld()) throw new NoSpaceError('the raft log still has no room');
      wal!.preallocate();
      applier.flush();
    },
  });
  const noSpace = (source: string) => (err: Error): void => spaceAlarm.raise(source, err);
  metrics.gauge('deimos_disk_space_alarm', '1 while the NOSPACE alarm is raised (the disk is full: writes are refused).', () => (spaceAlarm.active ? 1 : 0));
  metrics.gauge('deimos_disk_space_alarms_raised', 'Times the NOSPACE alarm was raised since the start.', () => spaceAlarm.raisedTotal);

  let backend: SqliteBackend | undefined;
  let wal: Wal | undefined;
  let store: Store;
  const walDir = join(config.dataDir, 'wal');
  const walOptions = {
    onSync: (ms: number) => {
      fsyncSeconds.observe(ms / 1000);
      etcdFsyncSeconds.observe(ms / 1000);
    },
    preallocateBytes: WAL_PREALLOCATE_BYTES,
    onNoSpace: noSpace('wal'),
    onWarning: (message: string, error: Error) => logger.warn(message, { error: error.message }),
  };
  let storage: MemoryStorage;
  let snapshotIndex = 0;
  /** Set on a restart: the stored membership this data directory was made with (when recorded). */
  let restarted: { stored: StoredBootstrap | undefined } | undefined;
  // A start that fails before the member runs takes back what it made: a first start its whole data
  // dir, a restart the files it added (a state database made in place of a missing one, also at
  // the target of a dangling symlink), so that a refused start leaves the files as they were.
  let fresh = false;
  const dbPath = join(config.dataDir, 'state.db');
  const dbLinkTarget = danglingLinkTarget(dbPath);
  let snapDir: string;
  try {
    fresh = !Wal.exists(walDir);
    // Checked (and made) before anything is written: a `snap` that is not a directory refuses the
    // start by name, leaving the files as they were.
    snapDir = snapshotDir(config.dataDir);
    backend = new SqliteBackend(dbPath, {
      synchronous: 'NORMAL', quickCheck: true, checkpointThread: config.checkpointThread, writerThread: config.commitThread,
      onCommit: (seconds) => commitSeconds.observe(seconds),
      onCheckpointError: (message) => logger.warn('state database checkpoint failed (the next compaction checkpoints again)', { error: message }),
      onWriterError: (err) => {
        if (isNoSpaceError(err)) noSpace('state database')(err);
        else logger.error('state database commit failed on the writer thread (the next flush tries again)', { error: err.message, code: String(err.code) });
      },
    });
    store = new Store({ backend, historyLimit: config.historySize });
    const db = { path: backend.path, appliedIndex: store.applied.index, restoredFrom: backend.restoredFrom() };
    if (Wal.exists(walDir)) {
      // Checked before a torn tail is truncated, so a refusal leaves the files as they were.
      const opened = Wal.open(walDir, { ...walOptions, check: (summary) => checkLogAgainstDatabase(db, walDir, summary) });
      if (opened.repaired) logger.warn('truncated a torn WAL tail (the last write, never acknowledged)', { repaired: opened.repaired });
      if (installCutShort(db, opened.snapshot?.index ?? 0)) {
        logger.warn('the last snapshot install stopped before the WAL recorded it: starting from the installed state; the leader sends the rest again', { snapshotIndex: db.restoredFrom!.snapshotIndex, appliedIndex: db.appliedIndex });
      }
      wal = opened.wal;
      storage = loadRaftStorage(opened);
      snapshotIndex = opened.snapshot?.index ?? 0;
      // The WAL knows who we are (a joined member's ID was assigned by the cluster, not derived),
      // and the data directory which members the cluster started from: not this start's flags.
      const ids = { memberId: opened.metadata.nodeId, clusterId: opened.metadata.clusterId };
      const stored = readStoredBootstrap(config.dataDir);
      const confState = storage.initialState().confState;
      const initialCluster = restartMembers(config.dataDir, ids, stored, given, confState, logger);
      // Only where the flags name this member too (a member that joined got its ID from the
      // cluster, not from its flags: the file would lack it).
      if (stored === undefined && initialCluster.some((m) => m.id === ids.memberId) && namesEveryRaftMember(initialCluster, confState)) {
        writeStoredBootstrap(config.dataDir, { name: given.name, ...ids, members: initialCluster });
        logger.info('wrote bootstrap.json from --bootstrap-config, which names every member raft knows: later restarts need no bootstrap flags');
      }
      config = { ...config, ...ids, initialCluster };
      restarted = { stored };
    } else {
      if (config.bootstrapProblem !== undefined) throw new FlagError(config.bootstrapProblem);
      checkLogAgainstDatabase(db, walDir, undefined);
      if (config.initialClusterState === 'existing') config = await joinConfig(config, logger, peerTls, stopping);
      // A new cluster starts from the bootstrap configuration. A member joining a running cluster
      // starts from the members it was told about, without itself: the log (or a snapshot) then
      // brings it the configuration change that added it.
      const ids = config.initialCluster.map((m) => m.id);
      const confState: ConfState = {
        voters: config.initialClusterState === 'new' ? ids : ids.filter((id) => id !== config.memberId),
        learners: [],
      };
      writeStoredBootstrap(config.dataDir, { name: config.name, memberId: config.memberId, clusterId: config.clusterId, members: config.initialCluster });
      wal = Wal.create(walDir, { nodeId: config.memberId, clusterId: config.clusterId }, walOptions);
      wal.saveSnapshotMarker({ index: 0, term: 0, confState });
      storage = new MemoryStorage();
      storage.bootstrap(confState);
    }
  } catch (err) {
    wal?.close();
    backend?.close();
    lock.release();
    dataDir.discardNew();
    if (dbLinkTarget !== undefined) for (const suffix of ['', '-wal', '-shm']) rmSync(dbLinkTarget + suffix, { force: true });
    throw err;
  }

  const node = new RawNode({
    id: config.memberId,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    storage,
    rng: seededRng(),
    applied: snapshotIndex,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
    maxUncommittedEntriesSize: 64 * 1024 * 1024,
    checkQuorum: true,
    preVote: true,
  });
  const membership = new Membership(store, config.initialCluster, Date.now);
  const auth = new AuthState();
  auth.load(store);
  if (restarted) config = reconcileWithStored(config, given, restarted.stored, membership, logger);
  const waiters = new WaitRegistry<ApplyResult>(MAX_PENDING_PROPOSALS);
  let raftApplied = (): number => 0;
  await removeIncompleteSnapshots(snapDir);
  const preloads = new SnapshotPreloads();
  const transport = new PeerTransport({
    onProbeSample: (peer, seconds) => peerRoundTrip.observe(seconds, { To: peer }),
    localId: config.memberId,
    clusterId: config.clusterId,
    snapshotDir: snapDir,
    snapshotSource: {
      open: async (m) => {
        try {
          applier.flush();
          return await openSnapshotForSend(backend, snapDir, m);
        } catch (err) {
          if (isNoSpaceError(err)) spaceAlarm.raise('snapshot', err);
          throw err; // the transfer fails and raft retries it later
        }
      },
      release: (f) => rmSync(f.path, { force: true }),
    },
    isRemoved: (id) => membership.isRemoved(id),
    isMember: (id) => membership.get(id) !== undefined,
    checkSnapshotFile: (path) => SqliteBackend.assertSnapshotFile(path),
    // Read while raft runs on, so the install does not hold this thread for the whole load.
    prepareSnapshotFile: async (path) => {
      const started = performance.now();
      await preloads.prepare(path);
      logger.info('read received snapshot state', { ms: Math.round(performance.now() - started) });
    },
    // Raft's applied index (the store's may be ahead, after a snapshot restore): the loop comes later.
    appliedIndex: () => raftApplied(),
    logger,
    ...(peerTls !== undefined ? {
      tls: () => peerTls.clientOptions(),
      threadTls: () => ({ options: peerTls.contextOptions(), ...(peerTls.files.allowedCn !== undefined ? { allowedCn: peerTls.files.allowedCn } : {}) }),
    } : {}),
    socketThread: config.peerThread,
  });
  // Runs while committed membership changes are applied, which must never throw: a peer the
  // transport cannot take is logged and left unreachable, and the others are still synced.
  const syncPeers = (): void => {
    const wanted = new Map(membership.list().map((m) => [m.id, m.peerURLs] as const));
    const guarded = (id: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        logger.error('peer transport refused a member', { peer: id, error: err instanceof Error ? err.message : String(err) });
      }
    };
    for (const id of transport.peerIds()) if (!wanted.has(id)) guarded(id, () => transport.removePeer(id));
    for (const [id, urls] of wanted) if (id !== config.memberId && urls.length > 0) guarded(id, () => transport.addPeer(id, urls));
  };
  syncPeers();
  const fatal = (err: Error): void => {
    for (const l of fatalListeners) l(err);
  };
  lock.guard(LOCK_CHECK_MS, {
    retaken: () => logger.warn('the data directory\'s LOCK file was removed while this member ran: taken again (a second process started on this directory would corrupt it)'),
    lost: fatal,
  });
  /**
   * Stops a member removed from the cluster, not at once: the DELETE that removed it may have been
   * sent to it, and its 204 must get out first (through a worker too); told by a peer's 410, it may
   * still be applying its removal. etcd waits 10 ticks for the same reason.
   */
  let removedStop: NodeJS.Timeout | undefined;
  const stopRemoved = (message: string): void => {
    // etcd says the same: the directory holds a removed member's identity and cannot serve again.
    const next = `; the data directory used by this member (${config.dataDir}) must be removed before it is added again`;
    removedStop ??= setTimeout(() => fatal(Object.assign(new Error(message + next), { code: 'ERR_MEMBER_REMOVED' })), REMOVED_STOP_TICKS * config.tickMs).unref();
  };
  const applier = new Applier({
    store, node: () => node, waiters, membership, auth, logger,
    restore: (snap) => {
      const started = performance.now();
      const { preloaded } = restoreFromSnapshot(backend, store, snap, preloads);
      logger.info('installed snapshot', { index: snap.metadata.index, ms: Math.round(performance.now() - started), preloaded });
      syncPeers();
    },
    // After this turn: a leader sends the commit index of the change (an append without entries)
    // at the end of the turn, and a member the change removes must get it to apply its own
    // removal (and answer a DELETE it was sent); syncing now would drop it with the peer.
    onConfChange: () => setImmediate(syncPeers),
    onMemberRemoved: (id) => {
      if (id === config.memberId) stopRemoved('this member was removed from the cluster');
    },
    initialConfState: storage.initialState().confState,
    onNoSpace: noSpace('state database'),
    flushPaused: () => spaceAlarm.active,
  });
  const compactor = new Compactor({
    storage, wal, backend, snapshotCount: config.snapshotCount, confState: () => applier.confState, logger, flushState: () => applier.flush(),
    memberId: config.memberId, onNoSpace: noSpace('snapshot'), paused: () => spaceAlarm.active,
  });
  let member: Member | undefined;
  /** Proposes this member's attributes until they are applied (set below, once the timer exists). */
  let publish = (): void => {};
  const loop = new RaftLoop({
    node, log: wal, mirror: storage, stateMachine: applier,
    sender: {
      send: (msgs) => {
        for (const m of msgs) if (m.type === MessageType.MsgApp) member!.appendsSent.note(estimateMessageBytes(m));
        transport.send(msgs);
      },
    },
    tickMs: config.tickMs,
    appliedIndex: Math.max(snapshotIndex, 0),
    onApplied: (index) => compactor.maybeCompact(index),
    hasPeers: () => transport.peerCount > 0,
    onNoSpace: noSpace('wal'),
    onSoftState: (s) => {
      member?.noteLeaderChange();
      if (s.lead !== '0' && s.lead !== lastLeader) leaderChanges.inc();
      // etcd's "new leader": one known now that was not just before (none counts), for timeouts' causes.
      if (s.lead !== '0' && s.lead !== softLeader) member?.noteLeaderElected();
      softLeader = s.lead;
      if (s.lead !== '0') lastLeader = s.lead;
      logger.info('raft state changed', { state: s.raftState, leader: s.lead });
      // A member serves clients only once published: propose it as soon as a leader is known
      // rather than at the next retry (the leader too, so /v2/members/leader names its client
      // URLs as soon as clients are served). Outside the loop's pass over this Ready.
      if (s.lead !== '0') setImmediate(() => publish());
    },
  });
  /** The last write-behind flush; on a full disk the WAL keeps those changes for the next start. */
  const finalFlush = (): void => {
    try {
      applier.flush();
    } catch (err) {
      if (!isNoSpaceError(err)) throw err;
      logger.warn('state database not flushed at shutdown: no disk space; the WAL replays the changes at the next start', { error: (err as Error).message });
    }
  };
  raftApplied = () => loop.appliedIndex;
  member = new Member({ config, logger, metrics, store, loop, waiters, membership, auth, transport, backend, flushState: () => applier.flush(), spaceAlarm });
  const badPeerMessages = new LogThrottle(logger, 1_000);
  // Five election timeouts of a leader's refused heartbeats, with none of them a timeout apart.
  const lostEntries = new LostEntriesWatch(5 * config.electionTicks * config.tickMs, config.electionTicks * config.tickMs, () => performance.now());
  /**
   * Peer messages are dropped until raft runs (every port bound): a first start that then fails
   * had answered a leader's appends (its term moved on, its acknowledgements may count), so its
   * data directory had to be kept. Raft sends again what was lost.
   */
  let raftRunning = false;
  transport.onMessage((m) => {
    if (!raftRunning) return;
    if (m.type === MessageType.MsgApp) member!.appendsReceived.note(estimateMessageBytes(m));
    try {
      loop.withNode((n) => n.step(m));
    } catch (err) {
      // Refused by the core before it changed anything: dropped, never the member's end.
      if (!(err instanceof InvalidPeerMessageError)) throw err;
      badPeerMessages.warn('dropped a peer message no correct member sends (a forged or broken peer, or a log here that lost entries it had acknowledged)', { error: err.message });
      if (err.commitPastLog && lostEntries.note()) {
        fatal(new Error(`this member's log lost entries it had acknowledged (${err.message}): its data directory ${config.dataDir} `
          + 'is older than what it told the cluster (a copy put back, or a disk that lost writes); remove the member and add it again with an empty data directory'));
      }
    }
  });
  transport.onUnreachable((id) => loop.withNode((n) => n.reportUnreachable(id)));
  transport.onSnapshotStatus((id, status) => loop.withNode((n) => n.reportSnapshot(id, status)));
  transport.onRemoved((by) => stopRemoved(`this member was removed from the cluster (told by ${by})`));
  registerMemberMetrics(metrics, member, store, () => loop.appliedIndex, backend.path);
  const peerGate = new ConnectionGate({ side: 'peer', limit: config.maxPeerConns, logger });
  peerGate.registerMetrics(metrics);


  // As etcd does, every start publishes this member's name and client URLs through the log, even
  // unchanged, and clients are served once that entry is applied here: by then the member has
  // applied everything committed before it, so a restarted member serves no watch or serializable
  // read from the state it stopped with while it catches up (it did, its stored attributes being
  // taken for published).
  let published = false;
  let publishing = false;
  const publishTimer = setInterval(() => publish(), PUBLISH_RETRY_MS);
  publish = (): void => {
    if (published || membership.isRemoved(config.memberId)) return clearInterval(publishTimer);
    if (publishing || loop.softState.lead === '0') return;
    publishing = true;
    const clientUrls = [...config.advertiseClientUrls].sort();
    member!.publishSelf(config.name, clientUrls).then((result) => {
      publishing = false;
      if (result.error !== undefined) return;
      published = true;
      clearInterval(publishTimer);
    }, () => {
      publishing = false; // timed out (no leader, or it changed): the timer proposes it again
    });
  };

  const syncTimer = setInterval(() => {
    const due = store.nextExpirationMs;
    const now = Date.now();
    if (loop.isLeader && due !== undefined && due <= now) member!.proposeAsync({ op: 'sync', timeMs: now });
  }, SYNC_INTERVAL_MS);

  // Clients are accepted from the start but served only once this member's attributes are
  // published (as etcd does), so no client write lands before the member's own record.
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let listeners: Listeners[] = [];
  let clientListeners: Listeners | undefined;
  let workers: WorkerPool | undefined;
  try {
    listeners.push(await listenPeers(config, (req, res) => {
      // Members joining the cluster ask any peer for the cluster ID and member list.
      if (req.method === 'GET' && req.url === '/members') return sendJson(res, 200, { clusterId: config.clusterId, members: membership.list() });
      // etcd's prober answer: what other members time their round trips with.
      if (req.method === 'GET' && req.url === PROBING_PATH) return sendJson(res, 200, { Health: true, Now: new Date().toISOString() });
      transport.handler(req, res);
    }, logger, peerTls, peerGate, transport.upgradeHandler));
    let isReady = false;
    void ready.then(() => (isReady = true));
    if (config.clientWorkers > 0) {
      // The client port is served by worker processes (docs/multi-core.md); this one never accepts on it.
      const hub = new ClientHub({ member, store, logger, isReady: () => isReady, isStopping: () => member.isStopping, maxClientConns: config.maxClientConns, requestTimeoutMs: config.requestTimeoutMs });
      // The workers' gates each report their own open connections (summed on /metrics); the bound is member-wide.
      registerConnectionLimit(metrics, 'client', config.maxClientConns);
      const pool = new WorkerPool({ count: config.clientWorkers, config, logger, metrics, attach: (socket) => hub.attach(socket) });
      workers = pool;
      listeners.push({ close: async () => {
        hub.close();
        await pool.stop();
      } });
      await pool.start();
    } else {
      const clientGate = new ConnectionGate({ side: 'client', limit: config.maxClientConns, logger });
      clientGate.registerMetrics(metrics);
      const api = createClientApi(member, () => isReady);
      clientListeners = await listenClients(config, gateUntilReady(api.handler, ready, config.requestTimeoutMs), logger, { tls: clientTls, fastHandler: api.fastHandler, gate: clientGate, draining: () => member.isStopping });
      listeners.push(clientListeners);
    }
  } catch (err) {
    preloads.close();
    await transport.close();
    await Promise.all(listeners.map((l) => l.close()));
    clearInterval(syncTimer);
    clearInterval(publishTimer);
    loop.stop();
    spaceAlarm.stop();
    wal.close();
    finalFlush(); // also cancels the pending flush, which must not run on a closed database
    backend.close();
    lock.release();
    // A first start whose ports could not be bound takes back its data directory, as one that
    // failed earlier does: left behind, it made the next start (ports fixed) a restart that
    // ignores the corrected --initial-cluster. Only while no other member can rely on it: alone
    // (it answered no one), or with raft's term still 0 (it voted for no one, took no entry).
    if (fresh && (config.initialCluster.length === 1 || loop.currentTerm === 0)) dataDir.discardNew();
    throw err;
  }
  // Raft's clock starts once every port is bound, as etcd binds its listeners before its raft node
  // starts: a member whose client port is taken (the workers bind it, a moment after the peer port)
  // took part in elections, or won one, before it failed.
  raftRunning = true;
  loop.start();
  if (config.initialCluster.length === 1 && config.initialClusterState === 'new') loop.withNode((n) => n.campaign());
  const tickAdvance = advanceElectionTicks(loop, transport, config);
  const checkReady = setInterval(() => {
    if (!published) return;
    clearInterval(checkReady);
    markReady();
  }, 20);
  logger.info('member started', {
    id: config.memberId, cluster: config.clusterId, client: config.listenClientUrls.join(','), dataDir: config.dataDir,
    maxClientConns: config.maxClientConns, clientWorkers: config.clientWorkers, checkpointThread: config.checkpointThread, commitThread: config.commitThread, peerThread: config.peerThread, maxPeerConns: config.maxPeerConns, openFilesLimit: config.openFilesLimit ?? 'unknown',
    ...(clientTls ? { clientCert: clientTls.description.subject, clientCertAuth: clientTls.files.clientCertAuth } : {}),
    ...(peerTls ? { peerCert: peerTls.description.subject, peerCertAuth: peerTls.files.clientCertAuth } : {}),
  });

  let stopped: Promise<void> | undefined;
  return {
    member,
    onFatal: (l) => fatalListeners.push(l),
    reloadTls: () => {
      reloadTlsSides([clientTls, peerTls], logger);
      workers?.reloadTls();
    },
    stop: (options) => {
      stopped ??= (async () => {
        // New writes and quorum reads are refused from here on; those already waiting get answered
        // (below) before the connections close.
        member.beginStop();
        // New client connections are refused from now on, and the answers on those open say
        // `Connection: close` (the client reconnects and is refused, instead of sending on a
        // connection the stop then cuts). Client workers learn it from the next status (50 ms).
        clientListeners?.stopAccepting?.();
        if (options?.handOver === true) {
          // A voter heard from over live streams within half an election timeout (it answers every
          // heartbeat, each tick), the most lately heard among the most caught-up.
          const electionMs = config.electionTicks * config.tickMs;
          // Waited for at most an election timeout and never past HANDOVER_MAX_WAIT_MS: a supervisor
          // gives a stop a grace period (Docker 10 s) before it kills.
          const result = await handOverLeadership(loop, config.memberId, (id) => transport.heardAgo(id), electionMs / 2, Math.min(electionMs, HANDOVER_MAX_WAIT_MS));
          if (result.outcome === 'handed-over') logger.info('handed leadership over before stopping', { to: result.to! });
          else if (result.outcome === 'timed-out') logger.warn('leadership hand-over before stopping did not complete; stopping anyway', { to: result.to! });
        }
        clearInterval(syncTimer);
        clearInterval(publishTimer);
        clearInterval(checkReady);
        clearInterval(tickAdvance);
        preloads.close();
        // A stop asked for (SIGTERM, SIGINT) lets the writes and quorum reads already waiting
        // finish while raft still runs, as etcd's shutdown lets its requests in flight finish,
        // for a bounded time; what is still waiting then gets the answer below.
        if (options?.handOver === true) await drained(() => waiters.size === 0 && loop.heldReads === 0, Math.min(config.requestTimeoutMs, STOP_DRAIN_MAX_MS));
        if (waiters.size > 0 || loop.heldReads > 0) {
          // Writes and quorum reads still waiting are answered before their connections close, with
          // etcd's answer for a stopping server (a removed member's clients saw their connections
          // cut): a write's outcome unknown, as a timeout's. Two turns let the answers reach the
          // sockets and the workers.
          waiters.failAll(new RequestTimeoutError(SERVER_STOPPED));
          loop.failReads(new RequestTimeoutError(SERVER_STOPPED));
          await new Promise((resolve) => setImmediate(resolve));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await transport.close();
        await Promise.all(listeners.map((l) => l.close()));
        loop.stop();
        waiters.failAll(new Error('server is shutting down'));
        spaceAlarm.stop();
        wal.close();
        finalFlush();
        backend.close();
        lock.release();
      })();
      return stopped;
    },
  };
}

export { StateType };

/** The longest a stop waits for the writes and quorum reads in flight to be answered (see stop()). */
const STOP_DRAIN_MAX_MS = 3_000;

/** Resolves once `done()` holds (checked every 5 ms) or after `maxMs`. */
async function drained(done: () => boolean, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The longest a stopping leader waits for its hand-over (see stop()). */
const HANDOVER_MAX_WAIT_MS = 3_000;

/**
 * How often the data directory's LOCK is checked (see DirLock.guard): a stat, so cheap; well
 * under the few hundred milliseconds a second deimos takes from its start to the lock.
 */
const LOCK_CHECK_MS = 100;

/** How often, and how long, a starting member looks for its peers' connections (etcd's 50 ms, 5 s). */
const TICK_ADVANCE_POLL_MS = 50;
const TICK_ADVANCE_WAIT_MS = 5_000;

/**
 * etcd's initial election tick advance: once more than one peer is connected, a starting member
 * that knows no leader yet advances its election clock by all but two ticks of the timeout, so a
 * cluster started (or restarted) as a whole elects about two ticks after its members are up instead
 * of a whole election timeout later; two ticks are left for a leader's heartbeat already on its way.
 * Returns the polling timer (cleared at stop).
 */
function advanceElectionTicks(loop: RaftLoop, transport: PeerTransport, config: ServerConfig): NodeJS.Timeout {
  const deadline = performance.now() + TICK_ADVANCE_WAIT_MS;
  const timer = setInterval(() => {
    if (loop.softState.lead !== '0' || performance.now() > deadline) return clearInterval(timer);
    // Streams connected (as etcd counts its active peers), not yet heard from: idle peers without a
    // leader send nothing but a keepalive now and then.
    if (transport.stats().filter((s) => s.connected).length <= 1) return;
    clearInterval(timer);
    loop.withNode((n) => {
      for (let i = 0; i < config.electionTicks - 2; i++) n.tick();
    });
  }, TICK_ADVANCE_POLL_MS);
  return timer;
}

/** Finds this member's ID, the cluster ID and the current members from a running cluster. */
async function joinConfig(config: ServerConfig, logger: Logger, tls: TlsSide | undefined, stopping: AbortSignal | undefined): Promise<ServerConfig> {
  const peerUrls = config.initialCluster.flatMap((m) => m.peerUrls);
  logger.info('joining a running cluster: asking its members for the member list', { through: [...new Set(peerUrls)].join(',') });
  const { info, self } = await discoverCluster(peerUrls, config.advertisePeerUrls, JOIN_DEADLINE_MS, tls?.clientOptions(), (message, fields) => logger.warn(message, fields), stopping);
  logger.info('joining a running cluster', { cluster: info.clusterId, id: self.id });
  return {
    ...config,
    memberId: self.id,
    clusterId: info.clusterId,
    initialCluster: info.members.map((m) => ({ id: m.id, name: m.id === self.id ? config.name : m.name, peerUrls: m.peerURLs })),
  };
}
