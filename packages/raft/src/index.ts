/** Public surface of @deimos/raft: the pure consensus core. */
export * from './api.js';
export { InvalidPeerMessageError, RawNode, StepLocalMessageError } from './raw-node.js';
export { MemoryStorage } from './memory-storage.js';
export { confChangeToBytes, confChangeFromBytes, ConfChangeDecodeError } from './conf-change-bytes.js';
export { describeMessage, describeEntry, RaftInvariantError } from './util.js';
export { Raft, CampaignType } from './raft.js';
export { RaftLog } from './raft-log.js';
