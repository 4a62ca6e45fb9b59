/**
 * The WHATWG text codecs, as far as utf8.ts uses them. Every runtime this package runs in (Node 20,
 * the browsers the dashboard supports) has them; they are declared here because the pure packages
 * compile without DOM or Node types. Both are deterministic: no clock, no randomness, no I/O.
 */
declare class TextEncoder {
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
