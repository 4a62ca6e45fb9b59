/**
 * etcdctl's words for oclif's command-line parse errors: `unknown flag: --bogus` instead of
 * "Nonexistent flag", `flag needs a value: --endpoints` instead of "Flag --endpoints expects a value".
 */
import { usageError, type CtlError } from './ctl-error.js';

/** The usage error a parse error stands for, or undefined when `err` is not one of these. */
export function etcdctlParseError(err: unknown, commandLine: string): CtlError | undefined {
  if (!(err instanceof Error)) return undefined;
  const hint = ` (see '${commandLine} --help')`;
  // oclif exports no parser error classes: the name and the `flags` list identify this one.
  const flags = (err as { flags?: unknown }).flags;
  if (err.constructor.name === 'NonExistentFlagsError' && Array.isArray(flags)) {
    return usageError(`unknown flag${flags.length === 1 ? '' : 's'}: ${flags.join(', ')}${hint}`);
  }
  // A plain CLIError whose text is all there is to go by.
  const needsValue = /^Flag (--[\w-]+) expects (a value|one of these values: .*)$/.exec(err.message);
  if (needsValue) return usageError(`flag needs a value: ${needsValue[1]}${needsValue[2] === 'a value' ? '' : ` (${needsValue[2]!.replace('one of these values: ', 'one of ')})`}${hint}`);
  return undefined;
}
