/**
 * A long-poll or streaming watch for e2e tests: resolves once the response headers arrive (the
 * watcher is registered by then), then hands out the body's JSON lines one at a time.
 */
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';

/** An open watch response. */
export class Watch {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private endedFlag = false;
  private error: Error | undefined;
  /** Resolves when the server has ended the response. */
  readonly ended: Promise<void>;

  private constructor(
    private readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim() !== '') this.lines.push(line);
      }
      this.wake();
    });
    this.ended = new Promise((resolve) => {
      const finish = () => {
        if (this.buffer.trim() !== '') this.lines.push(this.buffer);
        this.buffer = '';
        this.endedFlag = true;
        this.wake();
        resolve();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', (err) => {
        this.error = err;
        finish();
      });
    });
  }

  /** Opens `url` with GET and waits for the status line and headers. */
  static open(url: string, timeoutMs = 10_000): Promise<Watch> {
    const u = new URL(url);
    const rawPath = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method: 'GET', path: rawPath, agent: false });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`watch ${url}: no response headers within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('response', (res) => {
        clearTimeout(timer);
        resolve(new Watch(req, res));
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  header(name: string): string | undefined {
    const v = this.res.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** The next JSON line, parsed; fails after `timeoutMs` or when the response ends first. */
  async next(timeoutMs = 10_000): Promise<any> {
    const line = await this.nextLine(timeoutMs);
    if (line === undefined) throw new Error(`watch ended without another event${this.error ? `: ${this.error.message}` : ''}`);
    try {
      return JSON.parse(line);
    } catch (err) {
      throw new Error(`watch line is not JSON (${(err as Error).message}): ${JSON.stringify(line)}`);
    }
  }

  /** The next raw line, or undefined when the response ended; fails after `timeoutMs`. */
  async nextLine(timeoutMs = 10_000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.endedFlag) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * True when no line arrives within `ms` (used only to check that something does NOT happen; the
   * positive outcome of every test is asserted on a later event, never on elapsed time).
   */
  async quietFor(ms: number): Promise<boolean> {
    if (this.lines.length > 0) return false;
    try {
      const line = await this.nextLine(ms);
      if (line !== undefined) this.lines.unshift(line);
      return false;
    } catch {
      return true;
    }
  }

  /** Whether the server has ended the response. */
  get isEnded(): boolean {
    return this.endedFlag;
  }

  /** Closes the connection from the client side. */
  close(): void {
    this.req.destroy();
    this.res.destroy();
  }
}
