/**
 * Helpers for tests of members with client workers (`--client-workers`): requests on fresh
 * connections (each may land on any worker), and the worker processes of a member.
 */
import { readFileSync } from 'node:fs';
import { http, type TestResponse } from './http.js';

/** A response read whole. */
export type FreshResponse = TestResponse;

/** Sends one request on a connection of its own (closed after it), so any worker may take it. */
export function fresh(method: string, url: string, form?: Record<string, string>, timeoutMs = 10_000): Promise<FreshResponse> {
  return http(method, url, { form, timeoutMs, fresh: true });
}

/** The child processes of `pid` (a member's client workers), from /proc. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

/** Whether a process with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The value of one unlabelled series in a Prometheus text. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
