import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * An error of deimosctl itself (missing argument, file already exists): printed as one line on stderr,
 * then the process exits with `exitCode`.
 */
export class CtlError extends Error {
  /** Stable code for tests and callers. */
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  /** Print the message as is, without `Error:  ` (etcdctl prints its TLS set-up errors that way). */
  readonly bare: boolean;

  constructor(code: string, message: string, exitCode: ExitCodeValue = ExitCode.BadArgs, opts: { bare?: boolean } = {}) {
    super(message);
    this.name = 'CtlError';
    this.code = code;
    this.exitCode = exitCode;
    this.bare = opts.bare ?? false;
  }
}

/** A required argument is missing or malformed (exit 1). */
export function usageError(message: string): CtlError {
  return new CtlError('EUSAGE', message, ExitCode.BadArgs);
}
