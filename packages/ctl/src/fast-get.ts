/**
 * The start-up fast path of `deimosctl get`: loading oclif and got costs ~0.2 s, two to three
 * times what Node itself needs to start, which made the most common command several times slower
 * than etcdctl. A plain `get` that succeeds is therefore answered here with node:http alone, making
 * the same requests as the client would (the endpoint sync through /v2/members, then the key) and
 * printing with the same formatter.
 *
 * The rule that keeps the behaviour identical: this path only ever handles the plain success. Any
 * flag or form it does not know (help, TLS, --debug, --total-timeout, a new flag), any answer other
 * than a 2xx with a key, and any failure but a refused connection makes it give up before printing
 * anything; bin/run.js then runs the command the full way, which repeats the read (a GET is safe to
 * repeat) and reports whatever happens in its own words. This module must import neither oclif nor
 * the client (that is the point), only small pure modules.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { NodeJSON } from '@deimos/protocol';
import { DEFAULT_ENDPOINTS } from './default-endpoints.js';
import { parseDurationMs } from './duration.js';
import { formatResponse, type FormattableResponse, type OutputMode } from './format.js';

/** A keys answer for one key with a text value (and a previous node of the same kind, if any). */
function plainKeyAnswer(body: unknown): body is { action: string; node: NodeJSON; prevNode?: NodeJSON } {
  const plain = (n: unknown): boolean => typeof n === 'object' && n !== null && typeof (n as NodeJSON).key === 'string'
    && typeof (n as NodeJSON).value === 'string' && (n as NodeJSON).dir === undefined && (n as NodeJSON).nodes === undefined;
  const b = body as { action?: unknown; node?: unknown; prevNode?: unknown } | null;
  return b !== null && typeof b === 'object' && typeof b.action === 'string' && plain(b.node) && (b.prevNode === undefined || plain(b.prevNode));
}

/** What a plain `get` command line asks for. */
export interface FastGetRequest {
  key: string;
  endpoints: string[];
  timeoutMs: number;
  mode: OutputMode;
  sync: boolean;
  quorum: boolean;
  sorted: boolean;
}

/** Value flags this path understands (etcdctl's aliases included), by the setting they give. */
const VALUE_FLAGS: Readonly<Record<string, 'endpoints' | 'timeout' | 'output'>> = {
  '--endpoints': 'endpoints', '--endpoint': 'endpoints', '--peers': 'endpoints', '-C': 'endpoints',
  '--timeout': 'timeout', '--output': 'output', '-o': 'output',
};
const MODES: readonly string[] = ['simple', 'json', 'extended'];

/**
 * The request of a `get` command line (argv after bin/run.js's rewriting), or undefined when this
 * path must not handle it: anything but `get KEY` with the flags it knows, TLS settings or
 * credentials in the environment, or an endpoint that is not a plain http:// URL.
 */
export function plainGet(argv: readonly string[], env: NodeJS.ProcessEnv): FastGetRequest | undefined {
  if (argv[0] !== 'get') return undefined;
  // Credentials (and their prompt) are the full path's: it sends them on every request.
  if (['DEIMOSCTL_CA_FILE', 'DEIMOSCTL_CERT_FILE', 'DEIMOSCTL_KEY_FILE', 'DEIMOSCTL_USERNAME'].some((name) => (env[name] ?? '') !== '')) return undefined;
  const values: Partial<Record<'endpoints' | 'timeout' | 'output', string>> = {};
  const booleans = new Map<string, boolean>();
  const positional: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const setting = VALUE_FLAGS[name];
    if (setting !== undefined) {
      if (values[setting] !== undefined) return undefined; // repeated: oclif's rules decide
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      values[setting] = value;
    } else if (/^-o[a-z]+$/.test(arg)) {
      if (values.output !== undefined) return undefined;
      values.output = arg.slice(2);
    } else if (['--quorum', '--sort', '--sync', '--no-sync', '--color', '--no-color'].includes(arg)) {
      if (booleans.has(arg)) return undefined;
      booleans.set(arg, true);
    } else if (arg.startsWith('-')) {
      return undefined;
    } else {
      positional.push(arg);
    }
  }
  const key = positional[0];
  if (positional.length !== 1 || key === undefined || key === '') return undefined;
  const mode = values.output ?? 'simple';
  if (!MODES.includes(mode)) return undefined;
  if (booleans.has('--sync') && booleans.has('--no-sync')) return undefined;
  let timeoutMs: number;
  try {
    timeoutMs = parseDurationMs(values.timeout ?? '5s');
  } catch {
    return undefined;
  }
  if (values.endpoints === undefined && env.DEIMOSCTL_ENDPOINTS === '') return undefined; // oclif's rules decide
  const endpoints = endpointList(values.endpoints ?? env.DEIMOSCTL_ENDPOINTS ?? DEFAULT_ENDPOINTS);
  if (endpoints === undefined) return undefined;
  return { key, endpoints, timeoutMs, mode: mode as OutputMode, sync: !booleans.has('--no-sync'), quorum: booleans.has('--quorum'), sorted: booleans.has('--sort') };
}

/**
 * Runs a plain `get` and prints its value; true when done, false when nothing was printed and the
 * full command must run instead.
 */
export async function fastGet(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const req = plainGet(argv, env);
  if (!req) return false;
  const agent = new Agent({ keepAlive: true });
  try {
    const list = new EndpointList(req.endpoints);
    if (req.sync) {
      const members = await send(list, agent, '/v2/members', req.timeoutMs);
      const listed = (JSON.parse(members.body) as { members?: unknown }).members;
      // Anything but a member list: the full command says what is wrong.
      if (!Array.isArray(listed) || !listed.every((m) => Array.isArray(m?.clientURLs) && m.clientURLs.every((u: unknown) => typeof u === 'string'))) return false;
      const urls = (listed as Array<{ clientURLs: string[] }>).flatMap((m) => m.clientURLs);
      if (urls.length > 0) {
        const normalized = endpointList(urls.join(','));
        if (!normalized) return false;
        list.replace(normalized);
      }
    }
    const query = new URLSearchParams();
    if (req.sorted) query.set('sorted', 'true');
    if (req.quorum) query.set('quorum', 'true');
    const qs = query.toString();
    const res = await send(list, agent, `${keyPath(req.key)}${qs === '' ? '' : `?${qs}`}`, req.timeoutMs);
    const body = JSON.parse(res.body) as { action: string; node?: NodeJSON; prevNode?: NodeJSON };
    // A directory, or anything but a plain key's answer: the full command says what it is.
    if (!plainKeyAnswer(body)) return false;
    const resp: FormattableResponse = { action: body.action, node: body.node, etcdIndex: numericHeader(res.headers, 'x-etcd-index') };
    if (body.prevNode) resp.prevNode = body.prevNode;
    process.stdout.write(formatResponse(resp, req.mode));
    return true;
  } catch {
    return false;
  } finally {
    agent.destroy();
  }
}

/** The client's endpoint order: the pinned one first, then round the list; a refused endpoint moves the pin on. */
class EndpointList {
  private pinned = 0;
  constructor(private list: string[]) {}

  order(): string[] {
    return this.list.map((_, i) => this.list[(this.pinned + i) % this.list.length]!);
  }

  pin(url: string): void {
    this.pinned = Math.max(0, this.list.indexOf(url));
  }

  failed(url: string): void {
    if (this.list[this.pinned] === url) this.pinned = (this.pinned + 1) % this.list.length;
  }

  replace(urls: string[]): void {
    const current = this.list[this.pinned];
    this.list = urls;
    this.pinned = Math.max(0, current === undefined ? 0 : urls.indexOf(current));
  }
}

class GiveUp extends Error {}

/** GET `path` from the endpoints in order; only a refused connection moves on, anything but a 2xx gives up. */
async function send(list: EndpointList, agent: Agent, path: string, timeoutMs: number): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  for (const endpoint of list.order()) {
    let res: { status: number; headers: IncomingHttpHeaders; body: string };
    try {
      res = await httpGet(`${endpoint}${path}`, agent, timeoutMs);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ECONNREFUSED') throw err;
      list.failed(endpoint);
      continue;
    }
    if (res.status < 200 || res.status >= 300) throw new GiveUp(`status ${res.status}`);
    list.pin(endpoint);
    return res;
  }
  throw new GiveUp('no endpoint answered');
}

function httpGet(url: string, agent: Agent, timeoutMs: number): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new GiveUp('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The client's normalization (origin plus path without trailing slashes, duplicates dropped); undefined unless every entry is plain http. */
function endpointList(text: string): string[] | undefined {
  const urls: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    if (!URL.canParse(entry)) return undefined;
    const u = new URL(entry);
    if (u.protocol !== 'http:' || u.username !== '' || u.password !== '') return undefined;
    urls.push(`${u.origin}${u.pathname.replace(/\/+$/, '')}`);
  }
  return urls.length > 0 ? [...new Set(urls)] : undefined;
}

/** The client's key path: a leading slash, repeated slashes collapsed, each segment percent-encoded. */
function keyPath(key: string): string {
  return `/v2/keys/${key.split('/').filter((s) => s !== '').map(encodeURIComponent).join('/')}`;
}

function numericHeader(headers: IncomingHttpHeaders, name: string): number {
  const raw = headers[name];
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && raw !== '' && Number.isFinite(n) ? n : 0;
}

