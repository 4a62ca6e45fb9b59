/** Public surface of @deimos/client. */
export {};
