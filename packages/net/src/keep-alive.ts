/**
 * How long the client ports of members and proxies keep an idle keep-alive connection. etcd never
 * closes one. Load balancers and connection pools in front reuse theirs for up to a minute or more
 * (AWS ALB and nginx 60 s, Go's Transport 90 s, Google's load balancers 600 s), and a server that
 * closes first races them: a request sent on a connection as it closes fails (a 502 at the
 * balancer, a reset for a client that will not retry a PUT). So the bound is above all of those;
 * the member-wide connection bound (`--max-client-conns`) limits what idle connections can hold.
 */
export const CLIENT_KEEP_ALIVE_MS = 620_000;

/**
 * TCP keep-alive on the client ports of members and proxies, from accept (Go's servers, so etcd's,
 * use 15 s): a client that vanished without a FIN or RST is found out on every connection, an open
 * watch included (through a proxy it held the proxy's socket and a member connection for ever).
 */
export const CLIENT_TCP_KEEPALIVE_MS = 15_000;

/**
 * The request-head bound of the client ports of members and proxies (node:http's `maxHeaderSize`):
 * Go's `http.DefaultMaxHeaderBytes` (1 MiB) plus the 4096 bytes its server allows over it, as etcd
 * serves. At node's 16 KiB (64 KiB before), long headers that etcd takes (a long password in Basic
 * credentials, big cookies from a gateway) got a 431. Each connection's head is held only
 * until the arrival bound, and the connection bound limits how many are held.
 */
export const CLIENT_MAX_HEADER_BYTES = 1024 * 1024 + 4096;
