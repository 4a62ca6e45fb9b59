/**
 * A fault-injecting TCP proxy in front of one member's peer listener. Every member dials the
 * member behind this proxy at the proxy's port (the member's advertised peer URL) while the member
 * itself listens on a private port. Peer connections carry one HTTP request each (streams and
 * snapshot transfers, `agent: false`), so the proxy reads the first request head, learns the sender
 * from `X-Deimos-From`, and then forwards, drops, blackholes or delays the connection according to
 * the rule the harness set for that sender.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What happens to the traffic of one directed link (sender -> this proxy's member). */
export type LinkMode = 'pass' | 'drop' | 'blackhole';

/** One link rule: a mode and, when passing, a one-way latency added to every chunk. */
export interface LinkRule {
  mode: LinkMode;
  delayMs?: number;
}

/** Decides the rule for a sender (its member ID as sent, or `undefined` when the head named none). */
export type RuleLookup = (fromId: string | undefined) => LinkRule;

interface Conn {
  client: Socket;
  upstream: Socket | undefined;
  fromId: string | undefined;
  mode: LinkMode;
  /** When the last delayed chunk in each direction is due, so a smaller delay never reorders. */
  lastDueMs: [number, number];
}

const MAX_HEAD_BYTES = 32 * 1024;
const PASS: LinkRule = { mode: 'pass' };

/** The proxy of one member's peer port; see the module comment. */
export class FaultProxy {
  private readonly conns = new Set<Conn>();
  private server: Server | undefined;
  /** Connections the proxy accepted, by the mode they were given first (for the run report). */
  readonly counts: Record<LinkMode, number> = { pass: 0, drop: 0, blackhole: 0 };

  constructor(
    readonly listenPort: number,
    readonly targetPort: number,
    private readonly ruleFor: RuleLookup = () => PASS,
  ) {}

  /** Starts listening on 127.0.0.1:`listenPort`. */
  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Re-applies the rules to open connections: newly blocked links are cut or blackholed. */
  reapply(): void {
    for (const conn of this.conns) {
      const rule = this.ruleFor(conn.fromId);
      if (rule.mode === conn.mode) continue;
      if (conn.mode === 'blackhole' || rule.mode === 'drop') {
        // Healing a blackhole cuts it too: the sender must reconnect to be heard again.
        this.close(conn);
      } else if (rule.mode === 'blackhole') {
        this.blackhole(conn);
      }
    }
  }

  /** Cuts every open connection (e.g. when the member behind the proxy is replaced). */
  cutAll(): void {
    for (const conn of this.conns) this.close(conn);
  }

  /** Stops listening and cuts every connection. */
  async stop(): Promise<void> {
    this.cutAll();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const conn: Conn = { client, upstream: undefined, fromId: undefined, mode: 'pass', lastDueMs: [0, 0] };
    this.conns.add(conn);
    client.on('error', () => this.close(conn));
    client.on('close', () => this.close(conn));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD_BYTES) return;
      client.off('data', onData);
      client.pause();
      conn.fromId = senderOf(head.subarray(0, end < 0 ? head.length : end).toString('latin1'));
      this.route(conn, head);
    };
    client.on('data', onData);
  }

  private route(conn: Conn, head: Buffer): void {
    const rule = this.ruleFor(conn.fromId);
    this.counts[rule.mode] += 1;
    if (rule.mode === 'drop') return this.close(conn);
    if (rule.mode === 'blackhole') return this.blackhole(conn);
    const upstream = connect(this.targetPort, '127.0.0.1');
    conn.upstream = upstream;
    upstream.setNoDelay(true);
    conn.client.setNoDelay(true);
    // A blackholed connection drops its upstream on purpose; only the live upstream's end counts.
    const upstreamEnded = () => {
      if (conn.upstream === upstream) this.close(conn);
    };
    upstream.on('error', upstreamEnded);
    upstream.on('close', upstreamEnded);
    this.forward(conn, head, upstream, 0);
    conn.client.on('data', (chunk: Buffer) => this.forward(conn, chunk, upstream, 0));
    upstream.on('data', (chunk: Buffer) => this.forward(conn, chunk, conn.client, 1));
    conn.client.resume();
  }

  private forward(conn: Conn, chunk: Buffer, to: Socket, direction: 0 | 1): void {
    if (conn.mode !== 'pass') return;
    const delayMs = this.ruleFor(conn.fromId).delayMs ?? 0;
    const now = Date.now();
    if (delayMs <= 0 && conn.lastDueMs[direction] <= now) {
      to.write(chunk);
      return;
    }
    const due = Math.max(now + delayMs, conn.lastDueMs[direction]);
    conn.lastDueMs[direction] = due;
    setTimeout(() => {
      if (conn.mode === 'pass' && !to.destroyed) to.write(chunk);
    }, due - now);
  }

  /** Keeps the sender's socket open but throws away what it sends, like a network that drops packets. */
  private blackhole(conn: Conn): void {
    conn.mode = 'blackhole';
    const upstream = conn.upstream;
    conn.upstream = undefined;
    upstream?.destroy();
    conn.client.removeAllListeners('data');
    conn.client.on('data', () => {});
    conn.client.resume();
  }

  private close(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    conn.mode = 'drop';
    conn.client.destroy();
    conn.upstream?.destroy();
  }
}

/** The `X-Deimos-From` header of a request head, lower-cased, or undefined. */
export function senderOf(head: string): string | undefined {
  const match = /\r\nx-deimos-from:[ \t]*([^\r\n]*)/i.exec(head);
  return match?.[1]?.trim().toLowerCase() || undefined;
}
