/**
 * The server under test, deimos or etcd, as one member or a cluster on loopback: how to start it, where
 * its leader is, how each kind spells linearizable and serializable reads, and how to tear it down.
 */
import { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestTlsCredentials } from '../support/http.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';
import { EtcdProcess } from './etcd-process.js';

/** Which server. */
export type ServerKind = 'deimos' | 'etcd';

/** One running member. */
export interface BenchMember {
  name: string;
  clientUrl: string;
  readonly pid: number | undefined;
}

/** A running cluster of one kind. */
export interface BenchTarget {
  kind: ServerKind;
  members: BenchMember[];
  /** Query strings (without `?`) that make a v2 GET linearizable or serializable on this kind. */
  readQuery: { linearizable: string; serializable: string };
  /** For https client URLs: what clients present and trust. */
  tls?: TestTlsCredentials & { ca: string | Buffer };
  /** `taskset -c` list of each member, when pinned. */
  cpuLists?: readonly string[];
  /** Kills every member by PID and removes the data directories. */
  destroy(): Promise<void>;
}

/** How to start a target. */
export interface TargetOptions {
  nodes: number;
  /** Open-files limit for the servers, when the inherited one is too low. */
  fdLimit?: number;
  /** Path of the etcd binary (etcd targets only). */
  etcdBinary?: string;
  /** Serve clients over https with this certificate (for 127.0.0.1); peers stay plain. */
  tls?: BenchTls;
  /** `taskset -c` list of each member, by index (members without one inherit the bench's CPUs). */
  cpuLists?: readonly string[];
  /**
   * Client-serving workers of each deimos member, passed as `DEIMOS_CLIENT_WORKERS` in its
   * environment: a server that does not know the setting yet ignores the variable, where it would
   * refuse an unknown `--client-workers` flag. etcd targets ignore it.
   */
  clientWorkers?: number;
}

/** Server certificate files, and what clients trust. */
export interface BenchTls {
  certFile: string;
  keyFile: string;
  client: TestTlsCredentials & { ca: string | Buffer };
}

/** Starts `nodes` members of `kind` and waits until they answer quorum reads. */
export async function startTarget(kind: ServerKind, opts: TargetOptions): Promise<BenchTarget> {
  const ports = await freePorts(2 * opts.nodes);
  const names = Array.from({ length: opts.nodes }, (_, i) => `${kind}${i + 1}`);
  const cluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const started: (DeimosProcess | EtcdProcess)[] = [];
  const destroy = async () => {
    await Promise.all(started.map((m) => m.destroy()));
  };
  try {
    for (const [i, name] of names.entries()) {
      const clientPort = ports[2 * i]!;
      const peerPort = ports[2 * i + 1]!;
      const waitReady = opts.nodes === 1;
      const tls = opts.tls;
      const cpuList = opts.cpuLists?.[i];
      if (kind === 'deimos') {
        const tlsOptions = tls ? { clientScheme: 'https' as const, clientTls: tls.client, args: ['--cert-file', tls.certFile, '--key-file', tls.keyFile] } : {};
        const env = opts.clientWorkers === undefined ? undefined : { DEIMOS_CLIENT_WORKERS: String(opts.clientWorkers) };
        started.push(await DeimosProcess.start({ name, clientPort, peerPort, bootstrapConfig: cluster, waitReady, fdLimit: opts.fdLimit, cpuList, env, ...tlsOptions }));
      } else {
        if (!opts.etcdBinary) throw new Error('no etcd binary');
        started.push(await EtcdProcess.start(opts.etcdBinary, { name, clientPort, peerPort, initialCluster: cluster, waitReady, fdLimit: opts.fdLimit, cpuList, tls }));
      }
    }
    if (opts.nodes > 1) await Promise.all(started.map((m) => m.waitReady(30_000)));
  } catch (err) {
    await destroy();
    const tails = started.map((m) => `${m.name}: ${m.output.trim().split('\n').slice(-3).join(' / ')}`);
    throw new Error([(err as Error).message, ...(opts.nodes > 1 ? tails : [])].join('\n'));
  }
  return {
    kind,
    members: started,
    readQuery: kind === 'deimos'
      ? { linearizable: '', serializable: 'serializable=true' }
      : { linearizable: 'quorum=true', serializable: '' },
    tls: opts.tls?.client,
    cpuLists: opts.cpuLists,
    destroy,
  };
}

/** Finds the leader through `/v2/stats/self` (`state: "StateLeader"`); a single member is its own leader. */
export async function findLeader(target: BenchTarget, timeoutMs = 15_000): Promise<BenchMember> {
  if (target.members.length === 1) return target.members[0]!;
  let leader: BenchMember | undefined;
  await waitFor(async () => {
    for (const m of target.members) {
      const body = (await http('GET', `${m.clientUrl}/v2/stats/self`, { tls: target.tls })).json as { state?: string } | undefined;
      if (body?.state === 'StateLeader') {
        leader = m;
        return true;
      }
    }
    return false;
  }, { timeoutMs, what: `a ${target.kind} leader` });
  return leader!;
}
