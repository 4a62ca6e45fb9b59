/**
 * The consensus behind the simulated primary: a stand-in for Member that commits proposals in the
 * order they came, each after a seeded number of turns (so answers to different workers interleave
 * with the event stream in every order the real member allows), applies them to the real Store and
 * keeps the applied events as the run's ground truth. Linearizable reads resolve after seeded delays,
 * as ReadIndex rounds do: never before the call, with whatever was applied by then.
 */
import type { ReplicatedRequest } from '@deimos/protocol';
import type { ApplyResult } from '../../../src/member/apply-result.js';
import { applyKeysRequest } from '../../../src/member/apply-request.js';
import type { HubMember } from '../../../src/member/client-hub.js';
import type { Store, StoreEvent } from '../../../src/store/index.js';
import { FrontRng, turns } from './sim-rng.js';

/** Delays of the stand-in, in event-loop turns. */
export interface ConsensusShape {
  maxCommitTurns: number;
  maxReadTurns: number;
}

export class SimConsensus {
  /** Every applied event, in index order: what the keyspace went through. */
  readonly events: StoreEvent[] = [];
  private commits: Promise<void> = Promise.resolve();
  private raftIndex = 0;
  readonly member: HubMember;

  constructor(private readonly store: Store, private readonly rng: FrontRng, private readonly shape: ConsensusShape) {
    this.member = {
      proposeSerialized: (json: string) => this.propose(JSON.parse(json) as Omit<ReplicatedRequest, 'id'>),
      linearizableRead: () => turns(this.rng.int(this.shape.maxReadTurns + 1)),
      raft: () => ({ term: 1, appliedIndex: this.raftIndex, leaderId: '1', isLeader: true }),
      members: () => [],
      alarms: () => [],
      selfStats: () => ({ name: 'primary' }),
      leaderStats: () => undefined,
      keyspaceHash: () => ({ hash: '0', nodes: 0, storeIndex: this.store.index, appliedIndex: this.raftIndex }),
      addMember: async () => { throw new Error('not simulated'); },
      removeMember: async () => {},
      updateMember: async () => {},
      renderMetrics: () => '',
    } as unknown as HubMember;
  }

  /**
   * Reloads the keyspace between two commits, as installing a snapshot does: the workers are told
   * to start over from the primary's state, and their watches end as cleared.
   */
  reset(): void {
    this.commits = this.commits.then(() => {
      this.resets++;
      // As the member does: what was applied is in the backend, then the state is read back.
      this.store.commit({ index: this.raftIndex, term: 1 });
      this.store.reload();
    });
  }

  resets = 0;

  /** Everything proposed so far is applied. */
  settled(): Promise<void> {
    return this.commits;
  }

  private propose(req: Omit<ReplicatedRequest, 'id'>): Promise<ApplyResult> {
    const delay = this.rng.int(this.shape.maxCommitTurns + 1);
    return new Promise<ApplyResult>((resolve) => {
      this.commits = this.commits.then(() => turns(delay)).then(() => {
        const raftIndex = ++this.raftIndex;
        const full = { ...req, id: String(raftIndex) } as ReplicatedRequest;
        try {
          const event = applyKeysRequest(this.store, full);
          this.events.push(event);
          resolve({ event, raftIndex, raftTerm: 1 });
        } catch (err) {
          resolve({ error: err as never, raftIndex, raftTerm: 1 });
        }
      });
    });
  }
}
