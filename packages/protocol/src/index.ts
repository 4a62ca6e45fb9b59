/** Public surface of @deimos/protocol: types and codecs shared by every Deimos package. */
export * from './raft-types.js';
export * from './error-codes.js';
export * from './kv-types.js';
export * from './codec/index.js';
export * from './replicated-request.js';
export * from './http/request-head.js';
export * from './http/go-query.js';
export * from './http/go-bad-request.js';
export * from './http/origin-form.js';
export * from './descriptor-budget.js';
export * from './flags/go-duration.js';
export * from './flags/env-names.js';
export * from './flags/unread-environment.js';
export * from './dashboard-status.js';
