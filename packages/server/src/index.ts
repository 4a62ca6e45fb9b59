/** Public surface of @deimos/server (the composition root lives in main.ts). */
export {};
