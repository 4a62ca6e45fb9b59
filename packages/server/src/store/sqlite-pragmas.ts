/** Settings every connection to a state database shares. */

/**
 * SQLite page cache of a connection, in KiB. better-sqlite3 builds SQLite with a 16 MB page cache
 * per connection, which a store of 100k keys fills; the in-memory tree serves every read, so only
 * write-behind commits use the cache and the OS page cache backs the rest.
 */
export const PAGE_CACHE_KIB = 2048;
