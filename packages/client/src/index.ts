/** Public surface of @deimos/client: a typed client for Deimos and etcd v2, with lock, election and service-registry recipes. */
export { DeimosClient, type ClientOptions, type WatchOnceCallOptions } from './client.js';
export type { KeysResponse } from './keys-response.js';
export type { GetOptions, SetOptions, DeleteOptions } from './keys-options.js';
export type { WatchOptions } from './watch.js';
export type { RequestSafety, HttpRequest, HttpResponse, TlsOptions } from './request.js';
export type { DebugEvent, DebugListener } from './debug-events.js';
export { normalizeEndpoint } from './endpoints.js';
export { neverReached } from './request.js';
export {
  DeimosError, HistoryClearedError, ClusterUnavailableError, OutcomeUnknownError, ClientClosedError, KeyLostError, errorText, attemptedTls,
} from './errors.js';
export { InvalidResponseError, keysBody } from './response-shape.js';
export { Lock, type LockOptions } from './lock.js';
export { Election, type ElectionOptions } from './election.js';
export { ServiceRegistry, type ServiceRegistryOptions, type RegisterOptions, type Registration, type ServiceInstance } from './service-registry.js';
export { queueEntries, queuePosition, type QueueEntry, type QueuePosition } from './queue.js';
export {
  AuthError, basicAuthorization, type AuthRole, type AuthUser, type Credentials, type KvPermissions, type PermissionType,
} from './auth.js';
