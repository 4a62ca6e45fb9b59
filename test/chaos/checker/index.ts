/** Public surface of the chaos suite's checkers: pure functions over recorded histories, no I/O. */
export * from './history.js';
export * from './history-codec.js';
export {
  checkLinearizability,
  formatLinearizabilityResult,
  DEFAULT_MAX_STEPS_PER_PARTITION,
  type CheckOptions,
  type LinearizabilityResult,
  type PartitionResult,
} from './check-linearizability.js';
export type { SearchVerdict } from './wgl-search.js';
export * from './check-watch-stream.js';
export * from './check-no-lost-writes.js';
