/** Public surface of @deimos/proxy: start a proxy, parse its command line, or run its whole CLI. */
export { startProxy, ProxyStartError, type RunningProxy } from './proxy-server.js';
export { parseProxyArgs, proxyFlags, type ProxyConfig, type ProxyStartRequest, type ParseProxyOptions } from './proxy-config.js';
export { ProxyConfigError, type FlagSpec } from './flags.js';
export { runProxyCli, proxyModeRequested, PROXY_VERSION, type ProxyCliOptions } from './proxy-main.js';
export { createStderrLogger, type ProxyLogger } from './logger.js';
export { HOP_HEADER } from './upstream-head.js';
export { watchNpmWrapper } from './npm-wrapper-watch.js';
