/** Argument and flag helpers shared by the key commands. */
import { Args, Flags } from '@oclif/core';
import { usageError } from './ctl-error.js';

/** The `<key>` argument: required (shown as `KEY` in help); a missing key still says `key required`, as etcdctl (see DeimosCommand.init). */
export const keyArg = Args.string({ description: 'the key', required: true });

/** The `[value]` argument (stdin when absent; no other argument is ever read from stdin). */
export const valueArg = Args.string({ description: 'the value (when absent: all of stdin, byte for byte, if stdin is not a terminal)' });

/** `--ttl <seconds>`: any integer, as etcdctl takes (0 or less is no TTL). */
export const ttlFlag = Flags.integer({ description: 'time-to-live in seconds (0 or less: none)' });

/** The key, or `key required`. */
export function requireKey(key: string | undefined): string {
  if (key === undefined || key === '') throw usageError('key required');
  return key;
}

/** `{ttl}` when given and positive, `{}` otherwise (etcdctl's client sends a TTL only above 0). */
export function ttlOption(ttl: number | undefined): { ttl?: number } {
  return ttl !== undefined && ttl > 0 ? { ttl } : {};
}
