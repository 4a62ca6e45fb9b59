/**
 * Public surface of @deimos/net: the node-side HTTP pieces that the member's client port and
 * deimos-proxy share (per-connection request ordering, Go's answers to malformed requests after
 * the ones before them, the connection bound, a log throttle) and their one hand-written HTTP/1.1
 * connection loop (connection-loop.ts, with its exchange, the end-of-turn writer, request bytes and
 * plain heads, streamed bodies and the hand-over to node:http). They run timers and talk to
 * sockets, so they cannot live in the pure protocol package; they see node through the narrow
 * interfaces they declare, and their callers pass the clocks and timers in.
 */
export * from './request-turns.js';
export * from './client-error.js';
export * from './connection-gate.js';
export * from './ordered-admission.js';
export * from './log-throttle.js';
export * from './ordered-requests.js';
export * from './turn-writer.js';
export * from './request-input.js';
export * from './serve-first.js';
export * from './http-date.js';
export * from './body-stream.js';
export * from './loop-exchange.js';
export * from './connection-loop.js';
export * from './open-files-limit.js';
export * from './prometheus-merge.js';
export * from './retired-counters.js';
export * from './cpu-budget.js';
export * from './keep-alive.js';
export * from './request-intake.js';
export * from './auto-client-workers.js';
export * from './plain-http-refusal.js';
export { TLS_CIPHERS, TLS_HANDSHAKE_TIMEOUT_MS, TLS_MIN_VERSION } from './tls-listener-policy.js';
