/**
 * One connection's worth of hostile traffic: write the bytes (optionally half-close), then collect
 * what comes back until enough answers arrived, the server closed, or the deadline passed; the
 * socket is destroyed in every case.
 */
import { RawConnection } from '../support/raw-connection.js';
import { readAnswers, type ReadAnswers } from './http-answer.js';

/** What happened on the connection. */
export interface Exchange extends ReadAnswers {
  /** Everything received, latin1. */
  text: string;
  closed: boolean;
  /** The deadline passed with the connection open and too few answers. */
  timedOut: boolean;
  /** The connection could not be opened (the member is down?). */
  connectError?: string;
  elapsedMs: number;
}

/** Options of one exchange. */
export interface ExchangeOptions {
  chunks: ReadonlyArray<string | Buffer>;
  halfClose?: boolean;
  /** Stop once this many answers are complete (default 1). */
  answers?: number;
  deadlineMs: number;
  /** Answer `i` answers a HEAD request. */
  headFor?: (i: number) => boolean;
}

/** Opens a connection to `url`, writes, and reads answers as described above. */
export async function exchange(url: string, opts: ExchangeOptions): Promise<Exchange> {
  const started = Date.now();
  let conn: RawConnection;
  try {
    conn = await RawConnection.open(url);
  } catch (err) {
    return { answers: [], rest: '', interim: 0, text: '', closed: true, timedOut: false, connectError: (err as Error).message, elapsedMs: Date.now() - started };
  }
  try {
    for (const chunk of opts.chunks) {
      if (conn.closed) break;
      // A server that answers early and closes makes our later writes fail: what it sent still counts.
      await writeQuietly(conn, chunk, Math.max(0, opts.deadlineMs - (Date.now() - started)));
    }
    if (opts.halfClose && !conn.closed) conn.socket.end();
    const want = opts.answers ?? 1;
    let timedOut = false;
    try {
      await conn.until((text) => readAnswers(text, false, opts.headFor).answers.length >= want, `${want} answers`, Math.max(0, opts.deadlineMs - (Date.now() - started)));
    } catch {
      timedOut = !conn.closed;
    }
    const read = readAnswers(conn.text, conn.closed, opts.headFor);
    return { ...read, text: conn.text, closed: conn.closed, timedOut: timedOut && read.answers.length < want, elapsedMs: Date.now() - started };
  } finally {
    conn.destroy();
  }
}

/** Writes `chunk`; resolves once it is handed to the kernel, or after `timeoutMs` (a server that stopped reading). */
function writeQuietly(conn: RawConnection, chunk: string | Buffer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    conn.socket.write(data, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
