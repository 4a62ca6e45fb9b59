/**
 * The `deimos` server's flags: the original Deimos names, etcd's names as aliases, and the
 * embedded default (no flags = one node on 127.0.0.1:4001/7001 with data in ./default.deimos).
 */
import type { FlagSpec } from './flag-parser.js';

/** Every flag the server accepts. */
export const SERVER_FLAGS: readonly FlagSpec[] = [
  { name: 'name', kind: 'string', defaultValue: 'default', description: 'Human-readable name of this member; must appear in --bootstrap-config. A restart from an existing data directory keeps the stored name (and warns when this differs).' },
  { name: 'data-dir', kind: 'string', description: 'Directory for the WAL, snapshots and state database (default ./<name>.deimos).' },
  { name: 'listen-client-urls', kind: 'string', defaultValue: 'http://127.0.0.1:4001', description: 'Comma-separated URLs to serve the client API on (keys, members, stats, health).' },
  { name: 'advertise-client-urls', kind: 'string', description: 'Client URLs published to the cluster (/v2/members, /machines); default: the listen client URLs. Required when a listen URL is 0.0.0.0 or [::] (every address; no one can reach that).' },
  { name: 'listen-peer-urls', kind: 'string', defaultValue: 'http://127.0.0.1:7001', description: 'Comma-separated URLs to serve raft peer traffic on.' },
  { name: 'advertise-peer-urls', aliases: ['initial-advertise-peer-urls'], kind: 'string', description: 'Peer URLs this member is reached at; default: the listen peer URLs. Required when a listen URL is 0.0.0.0 or [::]. Read only when the data directory is new: a restart keeps the stored membership (change it with the members API).' },
  { name: 'bootstrap-config', aliases: ['initial-cluster'], kind: 'string', description: 'Initial cluster members as name=peerURL,... (repeat a name for several URLs); default: this member alone. Read only when the data directory is new: a restart uses the membership stored there and warns where this differs.' },
  { name: 'initial-cluster-state', kind: 'string', defaultValue: 'new', description: "'new' to start a new cluster, 'existing' to join a running one (after it added this member). Ignored once the data directory exists." },
  { name: 'initial-cluster-token', kind: 'string', defaultValue: 'deimos-cluster', description: 'Token mixed into the cluster ID so that two clusters with the same members never cross-talk.' },
  { name: 'snapshot-count', kind: 'integer', defaultValue: '10000', description: 'Applied entries between snapshots; the WAL is compacted after each snapshot.' },
  { name: 'timeout', aliases: ['request-timeout'], kind: 'string', defaultValue: '5s', description: 'How long a write or linearizable read may wait for consensus before failing (a duration with its unit, e.g. 5s, 800ms).' },
  { name: 'tick-interval', kind: 'string', defaultValue: '100ms', description: 'Length of one raft tick (a duration with its unit, e.g. 100ms).' },
  { name: 'election-timeout', kind: 'integer', defaultValue: '10', description: 'Election timeout in ticks (randomised between this and twice this).' },
  { name: 'heartbeat-timeout', kind: 'integer', defaultValue: '1', description: 'Ticks between leader heartbeats; must be smaller than --election-timeout.' },
  { name: 'history-size', kind: 'integer', defaultValue: '100000', description: 'Number of past events kept (across restarts) for watches that resume with waitIndex.' },
  { name: 'max-request-bytes', kind: 'integer', defaultValue: '4194304', description: 'Largest request body accepted, in bytes.' },
  { name: 'max-client-conns', kind: 'integer', description: 'Most client connections open at once, across all client URLs (watches included); more are answered 503 and closed. Default: derived from the open-files limit, keeping descriptors for the WAL, state database and peers.' },
  { name: 'max-peer-conns', kind: 'integer', description: 'Most connections open at once on the peer URLs; more are refused. Default: derived from the open-files limit (an eighth of the connection budget, 32 to 1024).' },
  { name: 'client-workers', kind: 'string', defaultValue: 'auto', description: "Processes that serve the client port, besides the one that runs consensus (raft, WAL, apply): 0 serves everything in one process; 'auto' (the default) uses the CPUs this process may run on (taskset/cpuset, lowered to its cgroup's CPU quota), one left to consensus, up to 16 (0 on 2 CPUs or fewer)." },
  { name: 'checkpoint-thread', kind: 'string', defaultValue: 'auto', description: "'on' to copy the state database's SQLite WAL into the database file on a thread of its own instead of inside commits on the consensus thread, 'off' not to; 'auto' is on when this process may use more than 2 CPUs (taskset/cpuset and cgroup quota)." },
  { name: 'peer-thread', kind: 'string', defaultValue: 'auto', description: "'on' to dial and write the outgoing peer streams (the leader's appends to every follower) on a thread of their own instead of on the consensus thread, 'off' not to; 'auto' is on when this process may use more than 2 CPUs (taskset/cpuset and cgroup quota). TLS peer streams included." },
  { name: 'commit-thread', kind: 'string', defaultValue: 'auto', description: "'on' to commit the state database's write-behind batches (and checkpoint its SQLite WAL) on a thread of its own instead of on the consensus thread, 'off' not to (then --checkpoint-thread applies); 'auto' is on when this process may use more than 2 CPUs (taskset/cpuset and cgroup quota)." },
  { name: 'cors', kind: 'string', defaultValue: '*', description: "Comma-separated origins allowed by CORS, or '*' for any; empty disables CORS headers." },
  { name: 'proxy', kind: 'string', defaultValue: 'off', description: "'off' to run a member; 'on' or 'readonly' to run as a proxy in front of the cluster." },
  { name: 'cert-file', kind: 'string', description: 'PEM certificate of the client listener; required when a --listen-client-urls URL is https://.' },
  { name: 'key-file', kind: 'string', description: 'PEM private key matching --cert-file.' },
  { name: 'trusted-ca-file', kind: 'string', description: 'PEM CA bundle that client certificates must chain to; given, every client must present one (as etcd requires).' },
  { name: 'ca-file', kind: 'string', description: 'The original Deimos (and etcd 2) flag: --trusted-ca-file, i.e. every client must present a certificate signed by this CA.' },
  { name: 'client-cert-auth', kind: 'boolean', description: 'Require every client to present a certificate signed by --trusted-ca-file (a trusted CA requires it anyway, as in etcd); others fail at the TLS handshake.' },
  { name: 'peer-cert-file', kind: 'string', description: 'PEM certificate of the peer listener, also presented as client certificate to other members; required for https:// peer URLs.' },
  { name: 'peer-key-file', kind: 'string', description: 'PEM private key matching --peer-cert-file.' },
  { name: 'peer-trusted-ca-file', kind: 'string', description: "PEM CA bundle that other members' certificates must chain to (both directions); given, members connecting must present one (as etcd requires)." },
  { name: 'peer-ca-file', kind: 'string', description: 'The original Deimos (and etcd 2) flag: --peer-trusted-ca-file, i.e. members must present a certificate signed by this CA.' },
  { name: 'peer-client-cert-auth', kind: 'boolean', description: 'Require members connecting to the peer listener to present a certificate signed by --peer-trusted-ca-file.' },
  { name: 'peer-cert-allowed-cn', kind: 'string', description: 'Accept only peer certificates with this subject common name (needs --peer-client-cert-auth); e.g. deimos-peer.' },
  { name: 'strict-reconfig-check', kind: 'boolean', defaultValue: 'true', description: 'Refuse a membership change that could leave fewer started, connected members than a quorum (as etcd does); --strict-reconfig-check=false turns the check off.' },
  { name: 'dashboard', kind: 'boolean', defaultValue: 'true', description: 'Serve the web dashboard (keys, live watches, cluster, metrics) at /dashboard/ on the client URLs; --dashboard=false turns it off.' },
  { name: 'enable-v2', kind: 'boolean', defaultValue: 'true', description: 'Accepted so that etcd 3.4 command lines run unchanged: the v2 API is what deimos serves (--enable-v2=false is refused).' },
  { name: 'log-level', kind: 'string', defaultValue: 'info', description: "Least severe log level printed: 'debug', 'info', 'warn' or 'error' (etcd's 'dpanic', 'panic' and 'fatal' are taken as 'error')." },
  { name: 'version', kind: 'boolean', noEnv: true, description: 'Print the version and exit.' },
  { name: 'help', aliases: ['h'], kind: 'boolean', noEnv: true, description: 'Print this help and exit.' },
];

/**
 * etcd 3.4 flags with no deimos equivalent, and what to write instead: an etcd command line moved
 * over fails on the first of them with this line rather than a bare "unknown flag".
 */
export const ETCD_FLAG_HINTS: ReadonlyMap<string, string> = new Map([
  ['heartbeat-interval', 'deimos counts raft time in ticks: --tick-interval is the heartbeat (etcd\'s --heartbeat-interval=100 is --tick-interval 100ms) and --election-timeout is in ticks (etcd\'s 1000 ms is 10)'],
  ['initial-election-tick-advance', 'a starting member advances its election clock once its peers are connected, as etcd does by default'],
  ['force-new-cluster', 'not supported: a cluster that lost its quorum cannot be restarted from one member here'],
  ['config-file', 'not supported: give flags or DEIMOS_<FLAG> environment variables'],
  ['wal-dir', 'not supported: the WAL is kept in <data-dir>/wal'],
  ['quota-backend-bytes', "not supported: it sizes etcd's v3 backend, which deimos does not have"],
  ['logger', 'not needed: deimos writes one structured line per event to stderr (--log-level sets the level)'],
  ['log-outputs', 'not supported: deimos logs to stderr'],
  ['listen-metrics-urls', 'not needed: /metrics is served on the client URLs'],
  ['auto-compaction-retention', "not needed: the v2 store keeps --history-size events; etcd's compaction is for v3"],
  ['max-snapshots', 'not needed: deimos keeps no snapshot files (the state database is its snapshot)'],
  ['max-wals', 'not needed: WAL segments that a snapshot covers are removed at once'],
  ['enable-pprof', 'not supported: /debug/vars is served; profile a member with node --cpu-prof'],
  ['auto-tls', 'not supported: make certificates with `deimosctl cert` and give --cert-file and --key-file'],
  ['peer-auto-tls', 'not supported: make certificates with `deimosctl cert peer` and give --peer-cert-file and --peer-key-file'],
  ['cipher-suites', 'not supported: listeners take TLS 1.2 and 1.3 with forward-secret AEAD ciphers only'],
  ['discovery', 'not supported: list the members with --initial-cluster'],
  ['discovery-srv', 'not supported: list the members with --initial-cluster'],
  ['debug', 'use --log-level debug'],
  ['proxy-refresh-interval', "deimos --proxy takes --refresh-interval, a duration with its unit (etcd's --proxy-refresh-interval=30000 is --refresh-interval 30s)"],
  ['proxy-failure-wait', "deimos --proxy takes --failure-wait, a duration with its unit (etcd's --proxy-failure-wait=5000 is --failure-wait 5s)"],
  ['proxy-dial-timeout', "deimos --proxy takes --dial-timeout, a duration with its unit (etcd's --proxy-dial-timeout=1000 is --dial-timeout 1s)"],
  ['proxy-read-timeout', 'deimos --proxy takes --response-timeout, a duration with its unit (a watch waits as long as it needs)'],
  ['proxy-write-timeout', 'deimos --proxy takes --response-timeout, a duration with its unit'],
]);
