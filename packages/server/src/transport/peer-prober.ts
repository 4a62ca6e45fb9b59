/**
 * Round trips to every peer, from every member, as etcd measures them for
 * `etcd_network_peer_round_trip_time_seconds`: a `GET <peer>/raft/probing` every few seconds, a
 * smoothed round-trip time from the answers, and one sample of it every 30 s (every 5 s while the
 * peer does not answer, and 5 s after it is added). Heartbeat round trips exist only on a leader,
 * so a follower had no series at all for dashboards built for etcd. Any HTTP answer counts (a
 * member of an older build answers the path 404): it is the time to the peer and back that is measured.
 */
import type { NodeId } from '@deimos/protocol';
import { openPeerRequest, peerEndpoint, type PeerTlsSource } from './peer-request.js';

/** The path a peer answers probes on (etcd's `ProbingPrefix`). */
export const PROBING_PATH = '/raft/probing';

/** Timings of a {@link PeerProber}; etcd's values by default. */
export interface ProbeTimings {
  /** Between two probes of a peer (etcd: its connection read timeout less a second). */
  probeEveryMs: number;
  /** Between two samples of a peer that answers. */
  sampleEveryMs: number;
  /** Between two samples while it does not answer, and before the first. */
  unhealthySampleEveryMs: number;
  /** A probe without an answer by then failed. */
  timeoutMs: number;
}

export const ETCD_PROBE_TIMINGS: ProbeTimings = { probeEveryMs: 4_000, sampleEveryMs: 30_000, unhealthySampleEveryMs: 5_000, timeoutMs: 5_000 };

/** Weight of a new round trip in the smoothed one (TCP's SRTT gain, as etcd's prober). */
const SRTT_GAIN = 0.125;

/** Options of a {@link PeerProber}. */
export interface PeerProberOptions {
  /** One sample of a peer's smoothed round trip, in seconds. */
  onSample(peer: NodeId, seconds: number): void;
  tls?: PeerTlsSource;
  nowMs?: () => number;
  timings?: ProbeTimings;
}

interface Probed {
  urls: readonly string[];
  /** Which of `urls` the next probe goes to (the next one after a failure). */
  next: number;
  srttMs: number | undefined;
  healthy: boolean;
  probeTimer: NodeJS.Timeout;
  sampleTimer: NodeJS.Timeout | undefined;
  /** Ends the probe in flight, if any. */
  abort: (() => void) | undefined;
}

/** Probes the peers it is given until they are removed or it is closed. */
export class PeerProber {
  private readonly peers = new Map<NodeId, Probed>();
  private readonly timings: ProbeTimings;
  private readonly nowMs: () => number;

  constructor(private readonly opts: PeerProberOptions) {
    this.timings = opts.timings ?? ETCD_PROBE_TIMINGS;
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  /** Starts probing a peer, or changes its URLs. */
  set(id: NodeId, urls: readonly string[]): void {
    const known = this.peers.get(id);
    if (known !== undefined) {
      known.urls = urls;
      known.next = 0;
      return;
    }
    const peer: Probed = {
      urls, next: 0, srttMs: undefined, healthy: false, abort: undefined, sampleTimer: undefined,
      probeTimer: setInterval(() => this.probe(peer), this.timings.probeEveryMs).unref(),
    };
    this.peers.set(id, peer);
    this.probe(peer);
    this.scheduleSample(id, peer);
  }

  /** Stops probing a peer. */
  remove(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    clearInterval(peer.probeTimer);
    clearTimeout(peer.sampleTimer);
    peer.abort?.();
  }

  /** Stops probing every peer. */
  close(): void {
    for (const id of [...this.peers.keys()]) this.remove(id);
  }

  private scheduleSample(id: NodeId, peer: Probed): void {
    const wait = peer.healthy && peer.srttMs !== undefined ? this.timings.sampleEveryMs : this.timings.unhealthySampleEveryMs;
    peer.sampleTimer = setTimeout(() => {
      if (this.peers.get(id) !== peer) return;
      if (peer.srttMs !== undefined) this.opts.onSample(id, peer.srttMs / 1000);
      this.scheduleSample(id, peer);
    }, wait).unref();
  }

  private probe(peer: Probed): void {
    if (peer.abort !== undefined || peer.urls.length === 0) return;
    const base = peer.urls[peer.next % peer.urls.length]!;
    const started = this.nowMs();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      peer.abort = undefined;
      peer.healthy = ok;
      if (!ok) {
        peer.next++;
        return;
      }
      const rtt = this.nowMs() - started;
      peer.srttMs = peer.srttMs === undefined ? rtt : (1 - SRTT_GAIN) * peer.srttMs + SRTT_GAIN * rtt;
    };
    let req: ReturnType<typeof openPeerRequest>;
    try {
      req = openPeerRequest(peerEndpoint(base, PROBING_PATH), {}, this.opts.tls, 'GET');
    } catch {
      return finish(false); // a URL this member cannot dial: unhealthy, as the stream finds it
    }
    timer = setTimeout(() => req.destroy(), this.timings.timeoutMs).unref();
    peer.abort = () => {
      settled = true;
      clearTimeout(timer);
      req.destroy();
    };
    req.on('response', (res) => {
      finish(true);
      res.resume();
      res.on('error', () => {});
    });
    req.on('error', () => finish(false));
    req.on('close', () => finish(false));
    req.end();
  }
}
