/**
 * Password hashing with node:crypto's scrypt. The proposing member hashes a password before it
 * proposes the change, so the raft log, the state database and snapshots only ever hold the salted
 * hash, and every member applies the same bytes. Stored as `scrypt$<salt hex>$<hash hex>`.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password with a fresh random salt (off the event loop: libuv's thread pool). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scryptAsync(password, salt);
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** Whether a password matches a stored hash (false for a malformed hash). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 3 || parts[0] !== 'scrypt') return false;
  const salt = Buffer.from(parts[1]!, 'hex');
  const expected = Buffer.from(parts[2]!, 'hex');
  if (expected.length !== KEY_LENGTH) return false;
  const key = await scryptAsync(password, salt);
  return timingSafeEqual(key, expected);
}

/** Whether a string has the shape of a stored hash (the replicated request check). */
export function isPasswordHash(v: unknown): boolean {
  return typeof v === 'string' && /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/.test(v);
}
