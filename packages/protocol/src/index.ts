/** Public surface of @deimos/protocol: types and codecs shared by every Deimos package. */
export * from './raft-types.js';
