/**
 * Turns any error a command ends with into etcdctl's one-line message and exit code: server errors
 * exit 4, an unreachable cluster 2, everything local (bad arguments, files) 1.
 */
import { ClusterUnavailableError, DeimosError, OutcomeUnknownError, errorText } from '@deimos/client';
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

/** Classifies an error (by class, never by message text). */
export function describeError(err: unknown): ErrorDescription {
  if (err instanceof DeimosError) {
    // errorCode 0: the members API answers `{"message"}` only; etcdctl prints it bare and exits 1.
    if (err.errorCode === 0) return { line: oneLine(err.message), exitCode: ExitCode.BadArgs, bare: true };
    return { line: formatServerError(err), exitCode: ExitCode.ServerError };
  }
  if (err instanceof ClusterUnavailableError) return { line: formatUnavailable(err), exitCode: ExitCode.BadConnection };
  if (err instanceof OutcomeUnknownError) return { line: oneLine(err.message), exitCode: ExitCode.BadConnection };
  if (err instanceof CtlError) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof Errors.CLIError) return { line: oneLine(stripOclifDecoration(err.message)), exitCode: ExitCode.BadArgs };
  return { line: oneLine(err instanceof Error ? err.message : String(err)), exitCode: ExitCode.BadArgs };
}

/** etcd's client wording, so that scripts grepping for it keep working. */
export function formatUnavailable(err: { errors?: readonly unknown[] }): string {
  const parts = (err.errors ?? []).map((e, i) => `error #${i}: ${e instanceof Error ? errorText(e) : String(e)}`);
  return ['client: etcd cluster is unavailable or misconfigured', ...parts].join('; ');
}

function stripOclifDecoration(message: string): string {
  return message.split('\n').filter((l) => !/^See more help with/.test(l.trim())).join('\n');
}

function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
}
