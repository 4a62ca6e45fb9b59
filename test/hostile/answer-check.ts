/**
 * What counts as a well-formed answer to a hostile request: a valid HTTP answer within the
 * deadline; any JSON content type parses; keys API errors are etcd error JSON whose message and
 * status match the error table; members API errors carry `{message}`; and no 5xx except the ones
 * a healthy cluster legitimately gives (a keys request that timed out in raft, the members API's
 * refusal of a change by the strict reconfiguration check).
 */
import { errorMessage, errorStatus } from '@deimos/protocol';
import type { Exchange } from './exchange.js';
import { utf8Body, type HttpAnswer } from './http-answer.js';
import { abbreviate, type HostileRequest } from './hostile-request.js';
import type { RawFramingCase } from './raw-framing-cases.js';

/** Why the connection's outcome is not a well-formed answer, or undefined when it is. */
function transportProblem(ex: Exchange, wanted: number, deadlineMs: number): string | undefined {
  if (ex.connectError !== undefined) return `could not connect: ${ex.connectError}`;
  if (ex.problem !== undefined) return `malformed answer: ${ex.problem}; received ${JSON.stringify(abbreviate(ex.text, 400))}`;
  if (ex.answers.length >= wanted) return undefined;
  if (ex.timedOut) return `no answer within ${deadlineMs} ms (received ${JSON.stringify(abbreviate(ex.text, 200))})`;
  return `connection closed after ${ex.answers.length} of ${wanted} answers (received ${JSON.stringify(abbreviate(ex.text, 200))})`;
}

function isJsonType(answer: HttpAnswer): boolean {
  return /^application\/([\w.+-]*\+)?json\b/i.test(answer.headers['content-type'] ?? '');
}

/** Parses a JSON body; the problem text when it does not parse. */
function parseJson(answer: HttpAnswer): { value?: unknown; problem?: string } {
  const text = utf8Body(answer);
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { problem: `${answer.statusLine} with Content-Type ${answer.headers['content-type']} has a body that is not JSON (${(err as Error).message}): ${JSON.stringify(abbreviate(text, 200))}` };
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function keysErrorProblem(status: number, body: any): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'error body is not an object';
  if (!isInt(body.errorCode)) return 'errorCode is not an integer';
  if (typeof body.message !== 'string') return 'message is not a string';
  if (body.cause !== undefined && typeof body.cause !== 'string') return 'cause is not a string';
  if (!isInt(body.index) || body.index < 0) return 'index is not a non-negative integer';
  if (body.message !== errorMessage(body.errorCode)) return `message "${body.message}" is not the table's for ${body.errorCode}`;
  if (status !== errorStatus(body.errorCode)) return `status ${status} is not the table's ${errorStatus(body.errorCode)} for ${body.errorCode}`;
  return undefined;
}

/** A 5xx a healthy cluster may give, by family. */
function allowedServerError(req: HostileRequest, status: number, body: any): boolean {
  if (status !== 500 || typeof body !== 'object' || body === null) return false;
  if (req.family === 'keys') return body.errorCode === 300 && /timed out/.test(String(body.cause));
  if (req.family === 'members') {
    const message = String(body.message);
    return message === 'Internal Server Error' || message.startsWith('Member permanently removed') || /timed out/.test(message);
  }
  return false;
}

function familyProblem(req: HostileRequest, a: HttpAnswer, body: any): string | undefined {
  if (req.family === 'keys' && a.status >= 400 && body !== undefined) return keysErrorProblem(a.status, body);
  if (req.family === 'keys' && (a.status === 200 || a.status === 201) && body !== undefined && !req.mayHang) {
    // noValueOnSuccess answers a write with the action alone, as etcd does.
    const actionOnly = typeof body?.action === 'string' && Object.keys(body).length === 1 && req.method !== 'GET';
    if (!actionOnly && (typeof body?.action !== 'string' || typeof body.node !== 'object' || body.node === null)) return 'a keys answer without action and node';
  }
  if (req.family === 'members' && a.status >= 400 && body !== undefined && typeof body.message !== 'string') return 'a members error without a message';
  if (req.family === 'members' && a.status === 201 && (typeof body?.id !== 'string' || !Array.isArray(body?.peerURLs))) return 'a member added without id and peerURLs';
  return undefined;
}

/** Checks the answer to a generated request; the problem, or undefined when it is well-formed. */
export function requestAnswerProblem(req: HostileRequest, ex: Exchange, deadlineMs: number): string | undefined {
  if (req.mayHang && ex.timedOut && ex.problem === undefined && ex.answers.length === 0) return undefined; // a watch still waiting
  if (req.method === 'CONNECT' && ex.closed && ex.text === '' && ex.connectError === undefined) return undefined; // node:http drops an unhandled CONNECT
  const transport = transportProblem(ex, 1, deadlineMs);
  if (transport !== undefined) return transport;
  const a = ex.answers[0]!;
  let body: any;
  if (isJsonType(a) && a.body !== '' && !(req.mayHang && a.status === 200)) {
    const parsed = parseJson(a);
    if (parsed.problem !== undefined) return parsed.problem;
    body = parsed.value;
  }
  if (a.status >= 500 && !allowedServerError(req, a.status, body)) return `server error ${a.statusLine}: ${JSON.stringify(abbreviate(utf8Body(a), 300))}`;
  const family = familyProblem(req, a, body);
  return family === undefined ? undefined : `${family}: ${a.statusLine} ${JSON.stringify(abbreviate(utf8Body(a), 300))}`;
}

/** 5xx answers that are the right answer to broken framing: 501 (unknown transfer coding), 505 (HTTP version). */
const FRAMING_SERVER_ERRORS = new Set([501, 505]);

/** Checks the outcome of a raw framing case against its expectation. */
export function rawAnswerProblem(rawCase: RawFramingCase, ex: Exchange, deadlineMs: number): string | undefined {
  const wanted = rawCase.expect === 'serve' ? (rawCase.count ?? 1) : 1;
  if (rawCase.expect !== 'serve' && ex.answers.length === 0 && ex.closed && ex.problem === undefined && ex.connectError === undefined) {
    return ex.rest === '' ? undefined : `connection closed inside an answer: ${JSON.stringify(abbreviate(ex.rest, 200))}`;
  }
  const transport = transportProblem(ex, wanted, deadlineMs);
  if (transport !== undefined) return transport;
  for (const a of ex.answers.slice(0, wanted)) {
    if (isJsonType(a) && a.body !== '') {
      const parsed = parseJson(a);
      if (parsed.problem !== undefined) return parsed.problem;
    }
    if (a.status >= 500 && !FRAMING_SERVER_ERRORS.has(a.status)) return `server error ${a.statusLine}: ${JSON.stringify(abbreviate(utf8Body(a), 300))}`;
  }
  const first = ex.answers[0]!;
  if (rawCase.expect === 'reject' && first.status < 400) return `accepted broken framing: ${first.statusLine} ${JSON.stringify(abbreviate(utf8Body(first), 200))}`;
  if (rawCase.expect === 'serve') {
    const bad = ex.answers.slice(0, wanted).find((a) => a.status >= 400);
    if (bad) return `refused valid HTTP: ${bad.statusLine} ${JSON.stringify(abbreviate(utf8Body(bad), 200))}`;
  }
  return undefined;
}
