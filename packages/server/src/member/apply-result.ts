/** What applying one replicated request produced, handed to the handler that proposed it. */
import type { EtcdError } from '@deimos/protocol';
import type { StoreEvent } from '../store/index.js';
import type { AuthError } from '../auth/auth-error.js';

/** The outcome of one applied entry, with the raft position it was applied at. */
export interface ApplyResult {
  event?: StoreEvent;
  error?: EtcdError;
  /** An auth request etcd refuses (nothing changed). */
  authError?: AuthError;
  raftIndex: number;
  raftTerm: number;
}
