/**
 * A chaos workload client: issues reads, writes, compare-and-swaps, creates and deletes on a
 * small set of keys through `/v2/keys`, one request at a time against a randomly chosen member,
 * and records each in the history with the outcome it can prove: `ok`, `fail` (a definite etcd
 * error), or `unknown` (timeout, lost connection, 5xx: it may still take effect).
 */
import { http, type TestResponse } from '../support/http.js';
import type { SimRng } from '../sim/rng.js';
import type { Operation, OperationKind } from './checker/index.js';
import type { HistoryRecorder } from './history.js';

/** The etcd error codes that prove an operation did not change the key (key not found, compare failed, node exists). */
const DEFINITE_CODES = new Set([100, 101, 105]);

/**
 * The code recorded for a request that never reached a server (connection refused): the
 * operation definitely had no effect, and the checker treats any code below 300 that way.
 */
export const NOT_SENT_CODE = 0;

/** The member's answer to a connection over its client connection limit (sent before any request is read). */
export function isConnectionRefusal(res: TestResponse): boolean {
  return res.status === 503 && /^too many open client connections/.test((res.json as { message?: string } | undefined)?.message ?? '');
}

/** Shared knowledge of the clients: recent values per key, so compare-and-swaps often match. */
export class ValueHints {
  private readonly recent = new Map<string, string[]>();

  /** Remembers a value seen or written for `key`. */
  note(key: string, value: string | null | undefined): void {
    if (value === null || value === undefined) return;
    const list = this.recent.get(key) ?? [];
    list.push(value);
    if (list.length > 4) list.shift();
    this.recent.set(key, list);
  }

  /** A recent value of `key`, or a made-up one. */
  pick(key: string, rng: SimRng): string {
    const list = this.recent.get(key);
    return list && list.length > 0 ? rng.pick(list) : 'none';
  }
}

/** Options of a {@link WorkloadClient}. */
export interface WorkloadClientOptions {
  /** The client's number: its history `clientId`; values it writes are `c<id>-<seq>`. */
  id: number;
  /** Full key paths, e.g. `/chaos/k0`. */
  keys: readonly string[];
  /** The members' client URLs (all of them; a dead member is part of the chaos). */
  targets: () => readonly string[];
  rng: SimRng;
  recorder: HistoryRecorder;
  hints: ValueHints;
  requestTimeoutMs: number;
  /** Pause between operations, so a run's history stays small enough to check. */
  thinkMs: number;
}

/** Counters of what the client saw that the checker does not use (for the run report). */
export interface ClientStats {
  unexpected: string[];
}

/** One client; see the module comment. */
export class WorkloadClient {
  private seq = 0;
  readonly stats: ClientStats = { unexpected: [] };

  constructor(private readonly opts: WorkloadClientOptions) {}

  /** Runs operations until `stopped()` is true. */
  async run(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      await this.step();
      if (this.opts.thinkMs > 0) await new Promise((r) => setTimeout(r, this.opts.rng.between(0, 2 * this.opts.thinkMs)));
    }
  }

  private async step(): Promise<void> {
    const { rng, keys, recorder, hints } = this.opts;
    const key = rng.pick(keys);
    const base = rng.pick(this.opts.targets());
    const roll = rng.nextFloat();
    const kind: OperationKind = roll < 0.45 ? 'read' : roll < 0.65 ? 'write' : roll < 0.85 ? 'cas' : roll < 0.93 ? 'delete' : 'create';
    const value = `c${this.opts.id}-${++this.seq}`;
    const url = `${base}/v2/keys${key}`;
    let op: Operation;
    let send: () => Promise<TestResponse>;
    const timeoutMs = this.opts.requestTimeoutMs;
    switch (kind) {
      case 'read':
        op = recorder.invoke(this.opts.id, key, 'read', {});
        send = () => http('GET', url, { timeoutMs });
        break;
      case 'write':
        op = recorder.invoke(this.opts.id, key, 'write', { value });
        send = () => http('PUT', url, { form: { value }, timeoutMs });
        break;
      case 'cas': {
        const expected = hints.pick(key, rng);
        op = recorder.invoke(this.opts.id, key, 'cas', { value, expected });
        send = () => http('PUT', url, { form: { value, prevValue: expected }, timeoutMs });
        break;
      }
      case 'delete':
        op = recorder.invoke(this.opts.id, key, 'delete', {});
        send = () => http('DELETE', url, { timeoutMs });
        break;
      case 'create':
        op = recorder.invoke(this.opts.id, key, 'create', { value });
        send = () => http('PUT', url, { form: { value, prevExist: 'false' }, timeoutMs });
        break;
    }
    let res: TestResponse;
    try {
      res = await send();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED') recorder.complete(op, 'fail', { errorCode: NOT_SENT_CODE });
      else recorder.complete(op, 'unknown');
      return;
    }
    this.record(op, res);
  }

  private record(op: Operation, res: TestResponse): void {
    const { recorder, hints } = this.opts;
    const body = res.json as { errorCode?: number; node?: { value?: string } } | undefined;
    if (res.status === 200 || res.status === 201) {
      if (op.kind === 'read') {
        const value = body?.node?.value ?? null;
        recorder.complete(op, 'ok', { value });
        hints.note(op.key, value);
      } else {
        recorder.complete(op, 'ok');
        hints.note(op.key, op.input.value);
      }
      return;
    }
    const code = body?.errorCode;
    if (isConnectionRefusal(res)) {
      // The member refused the connection before reading the request: it had no effect.
      recorder.complete(op, 'fail', { errorCode: NOT_SENT_CODE });
    } else if (code === 100 && op.kind === 'read') {
      recorder.complete(op, 'ok', { value: null });
    } else if (code !== undefined && DEFINITE_CODES.has(code)) {
      recorder.complete(op, 'fail', { errorCode: code });
    } else {
      if (res.status < 500 || code === undefined) this.stats.unexpected.push(`${op.kind} ${op.key}: ${res.status} ${res.body.slice(0, 200)}`);
      recorder.complete(op, 'unknown');
    }
  }
}
