/** Endpoints used when neither `--endpoints` nor DEIMOSCTL_ENDPOINTS is given (etcdctl's defaults). */
export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:2379,http://127.0.0.1:4001';
