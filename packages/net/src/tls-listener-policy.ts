/**
 * What every TLS listener of a member and of deimos-proxy accepts: TLS 1.2 or newer, forward-secret
 * AEAD cipher suites only, and a bounded handshake (one policy, so that a proxy in front of a
 * member is no weaker than the member).
 */

/** The oldest protocol version accepted. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305: no CBC, RSA key
 * exchange, SHA-1 MACs, 3DES or RC4.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** A connection that has not finished its handshake by then is closed (slowloris bound). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
