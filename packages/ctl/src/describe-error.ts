/**
 * Turns any error a command ends with into etcdctl's one-line message and exit code: server errors
 * exit 4; an unreachable cluster or an answer that is not an etcd error as the command's
 * {@link FailurePolicy} says (etcdctl: 4 for key commands, a bare line and 1 for member commands);
 * everything local (bad arguments, files) 1. A failed endpoint sync exits 2 (see `syncFailure`).
 */
import { ClusterUnavailableError, DeimosError, InvalidResponseError, OutcomeUnknownError, attemptedTls, errorText, neverReached } from '@deimos/client';
import { Errors } from '@oclif/core';
import { CtlError } from './ctl-error.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { formatServerError } from './format.js';

/** The text after `Error:  ` and the exit code. */
export interface ErrorDescription {
  line: string;
  exitCode: ExitCodeValue;
  /** Print the line as is, without `Error:  ` (etcdctl prints members-API errors that way). */
  bare?: boolean;
}

/** How a command reports a cluster it could not use: the exit code, and whether the line is bare. */
export interface FailurePolicy {
  exitCode: ExitCodeValue;
  bare: boolean;
}

/** etcdctl's key commands: `Error:  <line>`, exit 4 (its handleError with ExitServerError). */
export const KEYS_FAILURE: FailurePolicy = { exitCode: ExitCode.ServerError, bare: false };
/** etcdctl's member commands print the error bare and exit 1. */
export const MEMBERS_FAILURE: FailurePolicy = { exitCode: ExitCode.BadArgs, bare: true };

/** Commands without an etcdctl counterpart (lock, elect): exit 2, bad connection. */
export const UNREACHABLE_FAILURE: FailurePolicy = { exitCode: ExitCode.BadConnection, bare: false };

const INVALID_FORM = 210;
/** The cause a member gives a body over its limit (Go's text, part of the wire API). */
const GO_POST_TOO_LARGE = 'http: POST too large';
const MEMBER_TOO_LARGE_HINT = ': the request is larger than the member accepts (deimos --max-request-bytes, default 4194304 bytes); nothing was written';
const PROXY_TOO_LARGE_HINT = ' (deimos-proxy --max-request-bytes); nothing was written';

/**
 * The members API answers a refused change with etcd's bare 500 `Internal Server Error` (the
 * reason is in the member's log): said alone, it gave an operator nothing to act on.
 */
const MEMBERS_500_HINT = ': the cluster refused the change (without a leader and a quorum of connected members it takes none, '
  + 'and the strict reconfiguration check refuses one that would leave too few of them connected; the members\' logs say which)';

/** What the command was doing, for the hint after a cluster failure. */
export interface ErrorContext {
  /** A linearizable read (get, ls, watch without --serializable): `--serializable` is the way out. */
  linearizableRead?: boolean;
}

/** Classifies an error (by class, never by message text) for a command with `policy`. */
export function describeError(err: unknown, policy: FailurePolicy = KEYS_FAILURE, context: ErrorContext = {}): ErrorDescription {
  if (err instanceof DeimosError) {
    // errorCode 0: not an etcd error JSON (the members API's `{"message"}`, a proxy's or a TLS port's text).
    if (err.errorCode === 0) {
      const hint = err.status === 413 ? PROXY_TOO_LARGE_HINT : policy === MEMBERS_FAILURE && err.status === 500 ? MEMBERS_500_HINT : '';
      return { line: oneLine(err.message) + hint, ...policy };
    }
    const tooLarge = err.errorCode === INVALID_FORM && err.cause === GO_POST_TOO_LARGE;
    return { line: formatServerError(err) + (tooLarge ? MEMBER_TOO_LARGE_HINT : ''), exitCode: ExitCode.ServerError };
  }
  if (err instanceof ClusterUnavailableError) return { line: formatUnavailable(err, context), ...policy };
  // Not an etcd member's answer (etcdctl's words and exit code).
  if (err instanceof InvalidResponseError) return { line: err.message, exitCode: ExitCode.ServerError };
  if (err instanceof OutcomeUnknownError) return { line: oneLine(err.message), ...policy };
  if (err instanceof CtlError) return { line: err.message, exitCode: err.exitCode, ...(err.bare ? { bare: true } : {}) };
  if (err instanceof Errors.CLIError) return { line: oneLine(stripOclifDecoration(err.message)), exitCode: ExitCode.BadArgs };
  return { line: oneLine(err instanceof Error ? err.message : String(err)), exitCode: ExitCode.BadArgs };
}

/**
 * `cluster is unavailable or misconfigured` (the words of etcd's client, which scripts grep for),
 * then what happened in deimos's words and what to try, then every attempt's error.
 */
export function formatUnavailable(err: { errors?: readonly unknown[] }, context: ErrorContext = {}): string {
  const errors = err.errors ?? [];
  const parts = errors.map((e, i) => `error #${i}: ${e instanceof Error ? errorText(e) : String(e)}`);
  return [`cluster is unavailable or misconfigured: ${whatHappened(errors, context)}`, ...parts].join('; ');
}

/** One clause on why no member answered, from the attempts' errors (by class and code). */
function whatHappened(errors: readonly unknown[], context: ErrorContext): string {
  if (errors.length === 0) return 'no endpoint to ask';
  if (errors.every((e) => neverReached(e))) return 'no member could be reached (are the endpoints right, are the members running?)';
  const timedOut = errors.some((e) => (e as { code?: unknown }).code === 'ETIMEDOUT');
  const refused = errors.some((e) => e instanceof DeimosError);
  const why = timedOut ? 'no member answered within --timeout' : refused ? 'the members could not serve the request' : 'no member answered';
  if (!timedOut && !refused) return why;
  const needs = context.linearizableRead ? 'a linearizable read needs a leader and a quorum of members' : 'this needs a leader and a quorum of members';
  const way = context.linearizableRead ? ' (--serializable answers from the member\'s own store)' : '';
  return `${why}: ${needs}; are most members up and connected?${way}`;
}

/** Codes of a connection that failed at the network level (etcdctl's isConnectionError: dial, read, timeout). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * The error a failed endpoint sync ends the command with, as etcdctl: exit 2 when every attempt
 * failed at the network level; undefined otherwise (TLS or server errors: the command then runs on
 * the endpoints as given and reports its own failure).
 */
export function syncFailure(err: unknown): CtlError | undefined {
  if (!(err instanceof ClusterUnavailableError) || err.errors.length === 0) return undefined;
  const network = err.errors.every((e) => {
    const code = String((e as { code?: unknown }).code);
    // Over TLS a reset right after the handshake is how a refused client certificate often shows (Go's
    // etcdctl reads the alert instead and goes on): not a network failure.
    if (attemptedTls(e) && (code === 'ECONNRESET' || code === 'EPIPE')) return false;
    return CONNECTION_CODES.has(code);
  });
  return network ? new CtlError('ESYNC', formatUnavailable(err), ExitCode.BadConnection) : undefined;
}

function stripOclifDecoration(message: string): string {
  return message.split('\n').filter((l) => !/^See more help with/.test(l.trim())).join('\n');
}

function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
}
