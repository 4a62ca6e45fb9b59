/** Version strings reported by `--version` and `/version`. */

/** The Deimos release. */
export const DEIMOS_VERSION = '0.1.0';

/** The etcd server version whose v2 API we speak (what `/version` reports as etcdserver). */
export const ETCD_COMPAT_SERVER_VERSION = '3.4.23';

/** The etcd cluster version reported by `/version`. */
export const ETCD_COMPAT_CLUSTER_VERSION = '3.4.0';
