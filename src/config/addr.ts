/**
 * addr: the metrics listen address, in Go's `host:port` form as the reference takes it:
 * `:9090` (every interface), `127.0.0.1:9090`, `[::1]:9090`, `localhost:9090`.
 */

/** ListenAddr is where to listen; no host means every interface. */
export interface ListenAddr {
  host?: string;
  port: number;
}

/** parseListenAddr parses `host:port`; throws a short message naming the value. */
export function parseListenAddr(s: string): ListenAddr {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid address ${JSON.stringify(s)}: want HOST:PORT or :PORT`);
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}

/** formatListenAddr renders an address for logs (`[::1]:9090`, `:9090`). */
export function formatListenAddr(a: ListenAddr): string {
  const host = a.host === undefined ? '' : a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${host}:${a.port}`;
}
