/** A raw HTTP client connection for e2e tests that check the bytes a server sends. */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TestTlsCredentials } from './http.js';

/** A raw client connection that collects everything the server sends. */
export class RawConnection {
  text = '';
  closed = false;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined); // 'close' follows
  }

  static open(url: string, tls?: TestTlsCredentials): Promise<RawConnection> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = tls
        ? tlsConnect({ host: u.hostname, port: Number(u.port), ca: tls.ca }, () => resolve(new RawConnection(socket)))
        : netConnect({ host: u.hostname, port: Number(u.port) }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Waits until the received text satisfies `done` (or the connection closes), at most `timeoutMs`. */
  async until(done: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text)) {
      if (this.closed) throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.text;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

