/**
 * A scripted cluster member for proxy tests: a plain node:http server on loopback that answers
 * `/v2/members` with the client URLs it is given and every other request with a JSON echo (or a
 * scripted failure), and records what it was sent, the proxy's hop header included.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A scripted member: records requests, answers `/v2/members` with the given client URLs. */
export class FakeMember {
  readonly seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  /** What to do with a keys request; default: 200 with a JSON echo. `silent`: never answer (a stopped member). */
  behaviour: 'answer' | 'reset' | 'stream-then-die' | 'silent' = 'answer';
  memberUrls: string[] = [];
  /** Delay before a keys request is answered (a slower member: a proxy prefers the faster). */
  answerDelayMs = 0;
  /** `/v2/members` requests answered. */
  membersAsked = 0;
  private constructor(readonly server: Server, readonly url: string) {}

  static async start(): Promise<FakeMember> {
    let self!: FakeMember;
    const server = createServer((req, res) => self.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new FakeMember(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    self.memberUrls = [self.url];
    return self;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v2/members') {
        this.membersAsked++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ members: this.memberUrls.map((u, i) => ({ id: String(i + 1), name: `m${i}`, peerURLs: [], clientURLs: [u] })) }));
        return;
      }
      this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (this.behaviour === 'reset') {
        req.socket.destroy();
        return;
      }
      if (this.behaviour === 'silent') return;
      if (this.behaviour === 'stream-then-die') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"action":"set","node":{"key":"/w","value":"1"}}\n');
        setTimeout(() => req.socket.destroy(), 200);
        return;
      }
      const answer = (): void => {
        res.writeHead(200, [
          'Content-Type', 'application/json', 'X-Etcd-Index', '42', 'X-Raft-Term', '3',
          'Connection', 'keep-alive, X-Private', 'X-Private', 'secret', 'Keep-Alive', 'timeout=5',
        ]);
        res.end(JSON.stringify({ from: this.url }));
      };
      if (this.answerDelayMs > 0) setTimeout(answer, this.answerDelayMs);
      else answer();
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}
