/**
 * builtin: Node's built-in modules that are loaded with require(), not import. An ES import
 * of a built-in builds its namespace from every export, lazy getters included:
 * `import('node:http')` also loads tls, http2, zlib, worker_threads and undici (about 100
 * internal modules, +17 MB resident on Node 24), where require('node:http') loads http
 * alone (+3 MB). docs/benchmarks.md has the measurement. Used for the modules a
 * long-running replicator or init loads; small ones stay plain imports.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * fs is node:fs through require: its ES import also runs the lazy getters (`promises`,
 * the stream classes), loading fs/promises, readline, the REPL's history and the streams:
 * +4.3 MB resident on Node 26 against +0.5 MB (docs/benchmarks.md, "The init").
 */
export const fs = require('node:fs') as typeof import('node:fs');

/** loadHttp returns node:http, loaded on first use. */
export function loadHttp(): typeof import('node:http') {
  return require('node:http') as typeof import('node:http');
}

/** loadHttps returns node:https (TLS), loaded on first use. */
export function loadHttps(): typeof import('node:https') {
  return require('node:https') as typeof import('node:https');
}

/** loadCrypto returns node:crypto, loaded on first use. */
export function loadCrypto(): typeof import('node:crypto') {
  return require('node:crypto') as typeof import('node:crypto');
}

/** loadV8 returns node:v8, loaded on first use. */
export function loadV8(): typeof import('node:v8') {
  return require('node:v8') as typeof import('node:v8');
}
