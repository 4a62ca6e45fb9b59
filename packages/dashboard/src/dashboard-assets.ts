/**
 * The dashboard's built files (`dist/assets`: index.html and the content-hashed JS and CSS that
 * scripts/bundle.mjs writes), read into memory once at start and served from there by members and
 * deimos-proxy under `/dashboard/`. Nothing is read from disk per request, and nothing here runs on
 * the keys API's path: the routers call it only for paths that {@link isDashboardPath} accepts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the bundle lands: dist/assets next to this file's dist/src. */
export const DASHBOARD_ASSETS_DIR = fileURLToPath(new URL('../assets/', import.meta.url));

/**
 * The Content-Security-Policy of every dashboard answer: only this origin's own scripts, styles and
 * API (no inline script, no eval, no third-party hosts), and no framing (clickjacking).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** Headers of every dashboard answer, files and errors alike. */
const SECURITY_HEADERS: readonly string[] = [
  'Content-Security-Policy', DASHBOARD_CSP,
  'X-Content-Type-Options', 'nosniff',
  'X-Frame-Options', 'DENY',
  'Referrer-Policy', 'no-referrer',
  'Cross-Origin-Opener-Policy', 'same-origin',
];

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** esbuild's `[name]-[hash]` file names: the content decides the name, so they never change. */
const HASHED_NAME = /-[A-Z0-9]{8,}\.[a-z]+$/;

/** Whether `path` (without the query) belongs to the dashboard. */
export function isDashboardPath(path: string): boolean {
  return path === '/dashboard' || path.startsWith('/dashboard/');
}

/** One file, ready to send. */
interface Asset {
  body: Buffer;
  etag: string;
  headers: readonly (string | number)[];
}

function assetOf(name: string, body: Buffer): Asset {
  const dot = name.lastIndexOf('.');
  const type = CONTENT_TYPES[dot >= 0 ? name.slice(dot) : ''] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  // index.html names the current hashed files, so it is revalidated each time (cheap: a 304).
  const cache = HASHED_NAME.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache';
  return { body, etag, headers: ['Content-Type', type, 'Cache-Control', cache, 'ETag', etag, ...SECURITY_HEADERS] };
}

/** The dashboard's files in memory, and the answers for `/dashboard/...` requests. */
export class DashboardAssets {
  private constructor(private readonly files: ReadonlyMap<string, Asset>) {}

  /**
   * Reads every file of `dir` once. A missing or empty directory (a checkout built with `tsc -b`
   * alone, without the bundle step) gives assets that answer 404 with a hint instead of failing the
   * start: the keys API does not need the dashboard.
   */
  static load(dir: string = DASHBOARD_ASSETS_DIR): DashboardAssets {
    const files = new Map<string, Asset>();
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isFile()) files.set(name, assetOf(name, readFileSync(full)));
      }
    }
    return new DashboardAssets(files);
  }

  /** Whether the bundle was found (index.html among the files). */
  get built(): boolean {
    return this.files.has('index.html');
  }

  /**
   * Answers a request for `path` (a dashboard path, without the query): the file with its cache
   * headers, 304 when `If-None-Match` names its ETag, a redirect from `/dashboard` to
   * `/dashboard/`, 405 for methods other than GET and HEAD, 404 for anything else.
   */
  serve(req: IncomingMessage, res: ServerResponse, path: string): void {
    const method = req.method ?? 'GET';
    if (path === '/dashboard') {
      res.writeHead(301, ['Location', '/dashboard/', 'Content-Length', 0, ...SECURITY_HEADERS]);
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'Method Not Allowed\n', ['Allow', 'GET, HEAD']);
    const name = path === '/dashboard/' ? 'index.html' : decodedName(path.slice('/dashboard/'.length));
    const asset = name === undefined || name.includes('/') ? undefined : this.files.get(name);
    if (asset === undefined) {
      return plain(res, 404, this.built ? '404 page not found\n' : 'the dashboard was not built: run `npm run build` in the Deimos checkout\n');
    }
    if (matchesEtag(req.headers['if-none-match'], asset.etag)) {
      res.writeHead(304, asset.headers as (string | number)[]);
      res.end();
      return;
    }
    res.writeHead(200, [...asset.headers, 'Content-Length', asset.body.length]);
    res.end(method === 'HEAD' ? undefined : asset.body);
  }
}

/** An asset name percent-decoded (`%69ndex.html` is index.html, as Go's file server reads it); undefined when malformed. */
function decodedName(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * If-None-Match's weak comparison (RFC 9110 13.1.2): `*`, or any tag of the list equal to `etag`
 * once a `W/` prefix is set aside.
 */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function plain(res: ServerResponse, status: number, text: string, extra: readonly string[] = []): void {
  res.writeHead(status, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', Buffer.byteLength(text), ...extra, ...SECURITY_HEADERS]);
  res.end(text);
}
