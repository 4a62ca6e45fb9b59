/**
 * oclif's command manifest (oclif.manifest.json) lets oclif load only the command being run instead
 * of importing every command module to learn their flags. But oclif trusts a manifest over the code:
 * one left from an earlier build would show stale help and flags and miss new commands. So the
 * manifest records a fingerprint of the compiled code it was made from (scripts/oclif-manifest.mjs,
 * run by the build), and bin/run.js deletes a manifest whose fingerprint no longer matches: oclif
 * then reads the commands themselves (slower, always right) until the next build writes a new one.
 */
import { readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** The manifest's file name in the package root (oclif's). */
export const MANIFEST_FILE = 'oclif.manifest.json';

/** A fingerprint of the compiled sources and package.json: every file's path, size and modification time. */
export function sourceFingerprint(root: string): string {
  const parts: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) parts.push(stamp(root, path));
    }
  };
  walk(join(root, 'dist', 'src'));
  parts.push(stamp(root, join(root, 'package.json')));
  return fnv1a(parts.join('\n'));
}

/** Deletes the manifest when it was not made from the code now in dist (or cannot be read); true when one is left. */
export function dropStaleManifest(root: string): boolean {
  const path = join(root, MANIFEST_FILE);
  let recorded: unknown;
  try {
    recorded = (JSON.parse(readFileSync(path, 'utf8')) as { deimosFingerprint?: unknown }).deimosFingerprint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  try {
    if (recorded === sourceFingerprint(root)) return true;
  } catch {
    // No dist to compare with: the manifest cannot be trusted either.
  }
  try {
    unlinkSync(path);
  } catch {
    // A read-only install: nothing better to do than to let oclif use it.
  }
  return false;
}

function stamp(root: string, path: string): string {
  const s = statSync(path);
  return `${path.slice(root.length)}:${s.size}:${s.mtimeMs}`;
}

/** 32-bit FNV-1a as 8 hex digits: cheap, and enough to tell two builds apart. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
