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
