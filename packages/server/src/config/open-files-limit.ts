/**
 * The process's limit on open file descriptors, which the default connection limits are derived
 * from: read by @deimos/net (shared with deimos-proxy), parsed in @deimos/protocol.
 */
export { parseOpenFilesLimit } from '@deimos/protocol';
export { readOpenFilesLimit } from '@deimos/net';
