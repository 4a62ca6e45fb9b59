/**
 * Reading a request body with a hard size limit and a deadline. A too-large upload is answered
 * early (the caller writes the error) while the rest is discarded, up to a cap, so the client can
 * read the answer; past the cap or the deadline the socket is destroyed. Nothing is buffered past
 * the limit and nothing throws out of an event handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError, ErrorCode } from '@deimos/protocol';
import { writeError } from './write-response.js';

/** Default body limit: 4 MiB (etcd's request limit is about 1.5 MB; Go's form limit is 10 MB). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Default time to receive a whole body. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Why a body could not be read. */
export type BodyReadErrorCode = 'BODY_TOO_LARGE' | 'BODY_TIMEOUT' | 'BODY_ABORTED';

/** An operational error while reading a request body; check `code`, never the message. */
export class BodyReadError extends Error {
  constructor(readonly code: BodyReadErrorCode, message: string) {
    super(message);
    this.name = 'BodyReadError';
  }
}

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest accepted body; default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBytes?: number;
  /** Deadline for the whole body; default {@link DEFAULT_BODY_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * After the limit is hit, how many more bytes are read and dropped (so that the client, still
   * sending, can receive the error) before the socket is destroyed; default `maxBytes`.
   */
  discardBytes?: number;
}

/**
 * Reads the whole body of `req`. Rejects with {@link BodyReadError}: `BODY_TOO_LARGE` as soon as
 * `Content-Length` or the received bytes pass the limit, `BODY_TIMEOUT` at the deadline (the
 * socket is destroyed), `BODY_ABORTED` when the client goes away.
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const discardBytes = options.discardBytes ?? maxBytes;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const timer = setTimeout(() => {
      fail(new BodyReadError('BODY_TIMEOUT', 'http: request body read timeout'));
      req.socket.destroy();
    }, timeoutMs);
    timer.unref();

    const cleanup = (): void => {
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('close', onClose);
    };
    const fail = (err: BodyReadError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const tooLarge = (): void => {
      fail(new BodyReadError('BODY_TOO_LARGE', 'http: POST too large'));
      discardRest(req, discardBytes, timeoutMs);
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > maxBytes) tooLarge();
      else chunks.push(chunk);
    }
    function onEnd(): void {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    }
    function onClose(): void {
      fail(new BodyReadError('BODY_ABORTED', 'request body aborted by the client'));
    }

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      tooLarge();
      return;
    }
    if (req.readableEnded) {
      onEnd();
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/** Drops the rest of an oversized upload; destroys the socket past `capBytes` or `timeoutMs`. */
function discardRest(req: IncomingMessage, capBytes: number, timeoutMs: number): void {
  let dropped = 0;
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > capBytes) {
      clearTimeout(timer);
      socket.destroy();
    }
  };
  req.once('end', () => clearTimeout(timer));
  // The request does not always emit 'close' once the response is done; its socket does.
  socket.once('close', () => clearTimeout(timer));
  // Start on the next macrotask: the caller's rejection handler must write the answer first.
  setImmediate(() => {
    req.on('data', onData);
    req.resume();
  });
}

/**
 * The wire error for a body failure, etcd-style: 400 errorCode 210 `Invalid POST form`, cause Go's
 * text (`http: POST too large`, or `http: request body read timeout`).
 */
export function bodyErrorToEtcdError(err: BodyReadError): EtcdError {
  return new EtcdError(ErrorCode.InvalidForm, err.message, 0);
}

/**
 * Answers a {@link BodyReadError} (nothing to answer when the client aborted). A timed-out body gets
 * `Connection: close` (its socket is destroyed). A too-large one does not: node:http destroys a
 * `Connection: close` socket as soon as the answer is flushed, while the client is still uploading,
 * and the reset that the unread upload causes can discard the answer in the client's receive buffer
 * (the client saw `write EPIPE` instead of the 400). The rest of the upload is read and dropped
 * instead, up to a cap (see `discardRest`), as Go's server lingers before closing.
 */
export function writeBodyError(res: ServerResponse, err: BodyReadError, options: { clusterId: string }): void {
  if (err.code === 'BODY_ABORTED' || res.headersSent || res.destroyed) return;
  if (err.code !== 'BODY_TOO_LARGE') res.setHeader('Connection', 'close');
  writeError(res, bodyErrorToEtcdError(err), { clusterId: options.clusterId });
}
