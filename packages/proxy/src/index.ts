/** Public surface of @deimos/proxy. */
export {};
