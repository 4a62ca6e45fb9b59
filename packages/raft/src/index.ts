/** Public surface of @deimos/raft: the pure consensus core. */
export * from './api.js';
