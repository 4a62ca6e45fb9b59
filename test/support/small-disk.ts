/**
 * A small filesystem of its own for disk-full tests: a tmpfs mounted on a fresh temporary
 * directory (root only), filled to the last byte by a filler file and freed again by deleting it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why a disk-full test cannot run here, or undefined when it can (mounting a tmpfs needs root). */
export function smallDiskUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'mounting a tmpfs needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs as root); run as root to exercise a full disk';
  return undefined;
}

/** A mounted tmpfs; {@link unmount} removes it and its mount point. */
export class SmallDisk {
  private mounted = true;

  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `sizeBytes` on a new temporary directory. Throws when not root. */
  static mount(sizeBytes: number): SmallDisk {
    const dir = mkdtempSync(join(tmpdir(), 'deimos-small-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new SmallDisk(dir);
  }

  /**
   * Writes a filler file until the filesystem answers ENOSPC (large chunks first, then smaller
   * ones, down to a page, so nothing useful is left). Returns the bytes written.
   */
  fill(name = 'filler'): number {
    const fd = openSync(join(this.dir, name), 'a');
    let total = 0;
    try {
      for (let chunk = 1024 * 1024; chunk >= 512; chunk /= 2) {
        const buf = Buffer.alloc(chunk, 0x5a);
        for (;;) {
          try {
            total += writeSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return total;
  }

  /** Deletes the filler file, giving its space back. */
  free(name = 'filler'): void {
    rmSync(join(this.dir, name), { force: true });
  }

  /** Unmounts (lazily, so a process still holding files cannot block it) and removes the mount point. */
  unmount(): void {
    if (!this.mounted) return;
    this.mounted = false;
    execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
