import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * An error of deimosctl itself (missing argument, file already exists): printed as one line on stderr,
 * then the process exits with `exitCode`.
 */
export class CtlError extends Error {
  /** Stable code for tests and callers. */
  readonly code: string;
  readonly exitCode: ExitCodeValue;

  constructor(code: string, message: string, exitCode: ExitCodeValue = ExitCode.BadArgs) {
    super(message);
    this.name = 'CtlError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A required argument is missing or malformed (exit 1). */
export function usageError(message: string): CtlError {
  return new CtlError('EUSAGE', message, ExitCode.BadArgs);
}
