/** Public surface of @deimos/ctl. */
export {};
