/**
 * Helpers for tests of members with client workers (`--client-workers`): requests on fresh
 * connections (each may land on any worker), and the worker processes of a member.
 */
import { readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';

/** A response read whole. */
export interface FreshResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

/** Sends one request on a connection of its own (closed after it), so any worker may take it. */
export function fresh(method: string, url: string, form?: Record<string, string>, timeoutMs = 10_000): Promise<FreshResponse> {
  const u = new URL(url);
  const body = form === undefined ? undefined : Buffer.from(new URLSearchParams(form).toString());
  const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) };
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: url.slice(url.indexOf('/', url.indexOf('//') + 2)), headers, agent: false }, (res) => {
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
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The child processes of `pid` (a member's client workers), from /proc. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

/** Whether a process with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The value of one unlabelled series in a Prometheus text. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
