/** Public surface of @deimos/client: a typed client for Deimos and etcd v2, with lock, election and service-registry recipes. */
export { DeimosClient, type ClientOptions, type WatchOnceCallOptions } from './client.js';
export type { KeysResponse } from './keys-response.js';
export type { GetOptions, SetOptions, DeleteOptions } from './keys-options.js';
export type { WatchOptions } from './watch.js';
export type { RequestSafety, HttpRequest, HttpResponse, TlsOptions } from './request.js';
export { normalizeEndpoint } from './endpoints.js';
export {
  DeimosError, HistoryClearedError, ClusterUnavailableError, OutcomeUnknownError, ClientClosedError, KeyLostError,
} from './errors.js';
