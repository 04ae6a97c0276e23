import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { jsonReply, serveAddr } from '../../src/replicator/http-server.js';
import { waitUntil } from '../helpers/wait.js';

describe('serveAddr', () => {
  it('close ends a request in flight on a keep-alive connection at once', async () => {
    let asked = 0;
    const server = await serveAddr('127.0.0.1:0', {
      '/fast': () => jsonReply({ ok: true }),
      '/slow': () => {
        asked++;
        return new Promise(() => {});
      },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (route: string) =>
      new Promise<number>((resolve, reject) => {
        const [host, port] = server.address.split(':');
        http
          .get({ host, port: Number(port), path: route, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
    try {
      expect(await get('/fast')).toBe(200);
      // The same kept-alive socket now carries a request that never gets its answer.
      const slow = get('/slow');
      slow.catch(() => {});
      await waitUntil(() => asked === 1, { what: 'the slow request to arrive' });
      // Without ending busy connections the close would wait for an answer that never comes.
      let deadline: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => (deadline = setTimeout(() => resolve('still open'), 15_000)));
      expect(await Promise.race([server.close().then(() => 'closed'), late])).toBe('closed');
      clearTimeout(deadline);
      await expect(slow).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  }, 30_000);
});

describe('routes', () => {
  it('are given the query and may add headers; the content type and no-store stay', async () => {
    const server = await serveAddr('127.0.0.1:0', {
      '/q': (query) => ({ ...jsonReply({ history: query.get('history'), n: query.getAll('n') }), headers: { 'X-Extra': 'yes', 'Cache-Control': 'max-age=60' } }),
    });
    try {
      const res = await fetch(`http://${server.address}/q?history=1&n=a&n=b?c`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ history: '1', n: ['a', 'b?c'] });
      expect(res.headers.get('x-extra')).toBe('yes');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect((await fetch(`http://${server.address}/q/?x`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
