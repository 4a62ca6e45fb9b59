/** What the `service` commands share: the registry's directory flag and the list output. */
import { Flags } from '@oclif/core';
import type { ServiceInstance } from '@deimos/client';
import type { OutputMode } from './format.js';

/** `--prefix`: the directory holding every service (the client registry's default). */
export const servicePrefixFlag = Flags.string({ description: 'directory of all services', default: '/services' });

/**
 * One listing of a service's instances: `<id> <value>` lines in simple and extended mode, one JSON
 * array of `{id, value}` on one line with `-o json` (one line per listing, so that a watch is parseable).
 */
export function formatInstances(instances: readonly ServiceInstance[], mode: OutputMode): string {
  if (mode === 'json') return `${JSON.stringify(instances.map(({ id, value }) => ({ id, value })))}\n`;
  return instances.map(({ id, value }) => `${id} ${value}\n`).join('');
}
