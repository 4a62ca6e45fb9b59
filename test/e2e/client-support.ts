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
