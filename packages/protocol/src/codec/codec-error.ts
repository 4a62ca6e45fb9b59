/**
 * A binary encoding or decoding failure: truncated or corrupted input, an unknown format version,
 * or a value that the format cannot represent. Check it with `instanceof` or `code`, never by text.
 */
export class CodecError extends Error {
  /** Stable code for operational error handling. */
  readonly code = 'ERR_CODEC' as const;

  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}
