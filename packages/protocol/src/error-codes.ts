/**
 * The etcd v2 error table: every wire error code with its message and HTTP status.
 * One table, used by the store (which throws), the HTTP layer (which writes) and the clients.
 */

/** Wire error codes, named as etcd names them. */
export enum ErrorCode {
  KeyNotFound = 100,
  TestFailed = 101,
  NotFile = 102,
  NoMorePeer = 103,
  NotDir = 104,
  NodeExist = 105,
  KeyIsPreserved = 106,
  RootROnly = 107,
  DirNotEmpty = 108,
  ExistingPeerAddr = 109,
  Unauthorized = 110,
  ValueRequired = 200,
  PrevValueRequired = 201,
  TTLNaN = 202,
  IndexNaN = 203,
  ValueOrTTLRequired = 204,
  TimeoutNaN = 205,
  NameRequired = 206,
  IndexOrValueRequired = 207,
  IndexValueMutex = 208,
  InvalidField = 209,
  InvalidForm = 210,
  RefreshValue = 211,
  RefreshTTLRequired = 212,
  RaftInternal = 300,
  LeaderElect = 301,
  WatcherCleared = 400,
  EventIndexCleared = 401,
  StandbyInternal = 402,
  InvalidActiveSize = 403,
  InvalidRemoveDelay = 404,
  ClientInternal = 500,
}

interface ErrorInfo {
  message: string;
  status: number;
}

const TABLE: Record<number, ErrorInfo> = {
  100: { message: 'Key not found', status: 404 },
  101: { message: 'Compare failed', status: 412 },
  102: { message: 'Not a file', status: 403 },
  103: { message: 'Reached the max number of peers in the cluster', status: 400 },
  104: { message: 'Not a directory', status: 400 },
  105: { message: 'Key already exists', status: 412 },
  106: { message: 'The prefix of given key is a keyword in etcd', status: 400 },
  107: { message: 'Root is read only', status: 400 },
  108: { message: 'Directory not empty', status: 403 },
  109: { message: 'Peer address has existed', status: 400 },
  110: { message: 'The request requires user authentication', status: 401 },
  200: { message: 'Value is Required in POST form', status: 400 },
  201: { message: 'PrevValue is Required in POST form', status: 400 },
  202: { message: 'The given TTL in POST form is not a number', status: 400 },
  203: { message: 'The given index in POST form is not a number', status: 400 },
  204: { message: 'Value or TTL is required in POST form', status: 400 },
  205: { message: 'The given timeout in POST form is not a number', status: 400 },
  206: { message: 'Name is required in POST form', status: 400 },
  207: { message: 'Index or value is required', status: 400 },
  208: { message: 'Index and value cannot both be specified', status: 400 },
  209: { message: 'Invalid field', status: 400 },
  210: { message: 'Invalid POST form', status: 400 },
  211: { message: 'Value provided on refresh', status: 400 },
  212: { message: 'A TTL must be provided on refresh', status: 400 },
  300: { message: 'Raft Internal Error', status: 500 },
  301: { message: 'During Leader Election', status: 500 },
  400: { message: 'watcher is cleared due to etcd recovery', status: 400 },
  401: { message: 'The event in requested index is outdated and cleared', status: 400 },
  402: { message: 'Standby Internal Error', status: 400 },
  403: { message: 'Invalid active size', status: 400 },
  404: { message: 'Standby remove delay', status: 400 },
  500: { message: 'Client Internal Error', status: 400 },
};

/** The message etcd uses for a code. */
export function errorMessage(code: number): string {
  return TABLE[code]?.message ?? 'Unknown error';
}

/** The HTTP status etcd answers a code with. */
export function errorStatus(code: number): number {
  const known = TABLE[code];
  if (known) return known.status;
  return code >= 300 && code < 400 ? 500 : 400;
}

/** The JSON body of a wire error, field order as etcd writes it. */
export interface ErrorBody {
  errorCode: number;
  message: string;
  cause?: string;
  index: number;
}

/**
 * A wire error: part of the API, carried to the client as `{errorCode,message,cause,index}`.
 * The store throws these; one function in the HTTP layer writes them.
 */
export class EtcdError extends Error {
  readonly errorCode: number;
  override readonly cause: string;
  index: number;

  constructor(errorCode: number, cause = '', index = 0) {
    super(errorMessage(errorCode));
    this.name = 'EtcdError';
    this.errorCode = errorCode;
    this.cause = cause;
    this.index = index;
  }

  /** HTTP status for this error. */
  get status(): number {
    return errorStatus(this.errorCode);
  }

  /** The wire body (cause omitted when empty, as etcd does). */
  toJSON(): ErrorBody {
    if (this.cause === '') return { errorCode: this.errorCode, message: this.message, index: this.index };
    return { errorCode: this.errorCode, message: this.message, cause: this.cause, index: this.index };
  }
}
