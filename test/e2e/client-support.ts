/**
 * The fixture of the client recipe tests: one real `deimos` process for the enclosing `describe`, and
 * clients on it that are all closed afterwards.
 */
import { after, before } from 'node:test';
import { DeimosClient } from '@deimos/client';
import { DeimosProcess } from '../support/deimos-process.js';

/** Handles on the fixture (valid inside tests, after `before` ran). */
export interface OneMember {
  /** The running server. */
  server(): DeimosProcess;
  /** A new client on the server, closed after the suite. */
  newClient(): DeimosClient;
}

/** Registers `before`/`after` hooks that start one member and close every client made with `newClient`. */
export function oneMemberWithClients(): OneMember {
  let server: DeimosProcess | undefined;
  const clients: DeimosClient[] = [];
  before(async () => {
    server = await DeimosProcess.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.destroy();
  });
  const running = (): DeimosProcess => {
    if (!server) throw new Error('the deimos fixture is not running (use it inside tests)');
    return server;
  };
  return {
    server: running,
    newClient() {
      const c = new DeimosClient({ endpoints: [running().clientUrl] });
      clients.push(c);
      return c;
    },
  };
}

/** A client whose plain reads of one key are counted, and whose `nth` such read pauses the member. */
export interface PausingClient {
  client: DeimosClient;
  /** Plain GETs (not watches) of paths containing the key made so far. */
  reads(): number;
  /** SIGCONT to the member if the client paused it. */
  resume(): void;
}

/**
 * A client (300 ms timeout, no endpoint sync) that SIGSTOPs `server` as its `nth` plain GET of a
 * path containing `key` is sent: that read, and every request after it, finds no member answering
 * until `resume()` (what a raft election does to the requests in flight at a leader's death).
 */
export function clientPausingAt(server: DeimosProcess, key: string, nth: number): PausingClient {
  let reads = 0;
  let paused = false;
  const pid = server.pid!;
  const client = new DeimosClient({
    endpoints: [server.clientUrl], sync: false, timeoutMs: 300,
    debug: (e) => {
      if (e.kind !== 'request' || e.method !== 'GET' || !e.url.includes(key) || e.url.includes('wait=')) return;
      if (++reads !== nth) return;
      process.kill(pid, 'SIGSTOP');
      paused = true;
    },
  });
  return {
    client,
    reads: () => reads,
    resume: () => {
      if (paused) process.kill(pid, 'SIGCONT');
      paused = false;
    },
  };
}
