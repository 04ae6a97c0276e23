/**
 * metrics-server: `GET /metrics` on the config's `addr` (Prometheus text format 0.0.4).
 * Anything else is 404. node:http is loaded only when an address is configured.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatListenAddr, parseListenAddr } from '../config/addr.js';

/** MetricsServer is a listening metrics endpoint. */
export interface MetricsServer {
  /** address is where it listens, the port resolved (`:0` in the config picks a free one). */
  address: string;
  close(): Promise<void>;
}

/** startMetricsServer listens on `addr` and answers with `render()`; rejects with a one-line error if it cannot. */
export async function startMetricsServer(addr: string, render: () => string): Promise<MetricsServer> {
  const where = parseListenAddr(addr);
  const http = await import('node:http');
  const server: Server = http.createServer((req, res) => {
    const url = req.url?.split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && url === '/metrics') {
      const body = render();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found: try /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`metrics: listen on ${addr}: ${err.code ?? err.message}`)));
    server.listen(where.port, where.host, () => resolve());
  });
  server.unref();
  const bound = server.address() as AddressInfo;
  return {
    address: formatListenAddr({ host: where.host, port: bound.port }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
