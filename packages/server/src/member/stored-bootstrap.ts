/**
 * The membership a data directory was created with, kept in `<data-dir>/bootstrap.json`. The
 * members of the initial cluster have no record in the replicated member list (a new cluster
 * starts from a configuration, not from entries), so without this file a restart would take them
 * from whatever `--bootstrap-config`, `--name` and peer URLs it was given this time, and a changed
 * flag would add a phantom member that only this member sees. Written once, before the WAL, so a
 * data directory with a WAL always has it (directories from before the file are handled by the
 * caller).
 */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { readRegularFileSync } from '../util/read-regular-file.js';
import { join } from 'node:path';
import type { InitialMember } from '../config/server-config.js';
import { DataDirError } from './data-dir.js';

/** What `bootstrap.json` holds. */
export interface StoredBootstrap {
  /** This member's name when the data directory was made. */
  name: string;
  memberId: string;
  clusterId: string;
  /** The members this member started from (the initial cluster, or the cluster it joined). */
  members: InitialMember[];
}

/** Path of the file in a data directory. */
export function storedBootstrapPath(dataDir: string): string {
  return join(dataDir, 'bootstrap.json');
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the file durably (temporary file, fsync, rename, fsync of the directory). */
export function writeStoredBootstrap(dataDir: string, value: StoredBootstrap): void {
  const path = storedBootstrapPath(dataDir);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fsyncPath(tmp);
  renameSync(tmp, path);
  fsyncPath(dataDir);
}

function isMember(m: unknown): m is InitialMember {
  const v = m as InitialMember;
  return typeof v?.id === 'string' && typeof v.name === 'string' && Array.isArray(v.peerUrls) && v.peerUrls.every((u) => typeof u === 'string');
}

/** Reads the file: undefined when there is none; {@link DataDirError} when it is unreadable or malformed. */
export function readStoredBootstrap(dataDir: string): StoredBootstrap | undefined {
  const path = storedBootstrapPath(dataDir);
  let text: string;
  try {
    text = readRegularFileSync(path).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataDirError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let value: StoredBootstrap;
  try {
    value = JSON.parse(text) as StoredBootstrap;
  } catch (err) {
    throw new DataDirError(`${path}: not valid JSON (${(err as Error).message}); it records the cluster membership this data directory was created with`);
  }
  if (typeof value?.name !== 'string' || typeof value.memberId !== 'string' || typeof value.clusterId !== 'string'
    || !Array.isArray(value.members) || !value.members.every(isMember)) {
    throw new DataDirError(`${path}: malformed (expected name, memberId, clusterId and members)`);
  }
  return value;
}
