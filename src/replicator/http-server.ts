/**
 * http-server: the small HTTP endpoints — on the config's `addr` (TCP: `/metrics`,
 * `/healthz`, `/status`) and on the control socket (a unix socket, control-socket.ts) —
 * from a table of routes. GET and HEAD only; anything else is 404. node:http is loaded
 * only when something listens, through require (builtin.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadHttp } from '../builtin.js';
import { formatListenAddr, parseListenAddr } from '../config/addr.js';
import { errorMessage } from '../errors.js';

/** HttpReply is one answer: status, content type, body, and any further headers. */
export interface HttpReply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

/** Routes maps a path (`/metrics`) to what answers it, given the request's query (`?history=1`). */
export type Routes = Record<string, (query: URLSearchParams) => HttpReply | Promise<HttpReply>>;

/** PROMETHEUS_TYPE is the content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** jsonReply answers `doc` as indented JSON with `status`. */
export function jsonReply(doc: unknown, status = 200): HttpReply {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(doc, null, 2)}\n` };
}

/** HttpServer is a listening endpoint. */
export interface HttpServer {
  /** address is where it listens: `host:port` (the port resolved: `:0` picks a free one), or the socket path. */
  address: string;
  close(): Promise<void>;
}

/** createHttpServer builds the server for `routes` (not listening yet). */
export async function createHttpServer(routes: Routes): Promise<Server> {
  return loadHttp().createServer((req, res) => void answer(routes, req, res));
}

async function answer(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '';
  const q = raw.indexOf('?');
  const url = q === -1 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  const route = Object.hasOwn(routes, url) ? routes[url] : undefined;
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !route) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`not found: try ${Object.keys(routes).join(', ')}\n`);
    return;
  }
  let reply: HttpReply;
  try {
    reply = await route(query);
  } catch (err) {
    reply = { status: 500, type: 'text/plain; charset=utf-8', body: `${errorMessage(err)}\n` };
  }
  res.writeHead(reply.status, { ...reply.headers, 'Content-Type': reply.type, 'Content-Length': Buffer.byteLength(reply.body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}

/** serveAddr listens on `addr` (`host:port`) with `routes`; rejects with a one-line error if it cannot. */
export async function serveAddr(addr: string, routes: Routes): Promise<HttpServer> {
  const where = parseListenAddr(addr);
  const server = await createHttpServer(routes);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`metrics: listen on ${addr}: ${err.code ?? err.message}`)));
    server.listen(where.port, where.host, () => resolve());
  });
  server.unref();
  const bound = server.address() as AddressInfo;
  return {
    address: formatListenAddr({ host: where.host, port: bound.port }),
    close: () => closeServer(server),
  };
}

/**
 * closeServer stops accepting and ends every connection, idle or not: a request still in
 * flight (a slow client's, a keep-alive one) must not hold up the stop.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
