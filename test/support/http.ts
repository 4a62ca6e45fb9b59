/** A plain node:http client for tests: exact paths (no normalisation), status, headers, body. */
import { request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

/** What the test client presents to and trusts from an https server (PEM contents). */
export interface TestTlsCredentials {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** One response. */
export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One keep-alive https agent per credentials object, so that connections never mix credentials. */
const httpsAgents = new WeakMap<TestTlsCredentials, HttpsAgent>();
const NO_CREDENTIALS: TestTlsCredentials = {};

function httpsAgentFor(tls: TestTlsCredentials = NO_CREDENTIALS): HttpsAgent {
  let a = httpsAgents.get(tls);
  if (a === undefined) {
    a = new HttpsAgent({ keepAlive: true, maxSockets: 256, ...tls });
    httpsAgents.set(tls, a);
  }
  return a;
}

/**
 * Sends a request; `form` becomes an application/x-www-form-urlencoded body. `localAddress` picks the
 * loopback source address (another 127.x.y.z: another client address for the server). `fresh` sends
 * it on a connection of its own, closed after it (plain HTTP), instead of a kept-alive one.
 */
export function http(method: string, url: string, opts: { form?: Record<string, string>; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number; tls?: TestTlsCredentials; localAddress?: string; fresh?: boolean } = {}): Promise<TestResponse> {
  const u = new URL(url);
  let body: Buffer | undefined;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.form) {
    body = Buffer.from(new URLSearchParams(opts.form).toString());
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  } else if (opts.body !== undefined) {
    body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  }
  if (body) headers['Content-Length'] = String(body.length);
  // Keep the raw path as given (URL would re-encode some characters).
  const rawPath = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  return new Promise((resolve, reject) => {
    const target = { host: u.hostname, port: u.port, method, path: rawPath, headers, ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) };
    const send = u.protocol === 'https:'
      ? (cb: (res: IncomingMessage) => void) => httpsRequest({ ...target, ...opts.tls, agent: opts.fresh ? false : httpsAgentFor(opts.tls) }, cb)
      : (cb: (res: IncomingMessage) => void) => httpRequest({ ...target, agent: opts.fresh ? false : agent }, cb);
    const req = send((res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error(`request ${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
