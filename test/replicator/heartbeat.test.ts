import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log.js';
import { scrubUrls, startHeartbeat } from '../../src/replicator/heartbeat.js';
import { waitUntil } from '../helpers/wait.js';

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) }), lines };
}

describe('heartbeat', () => {
  it('a fetch error that quotes the URL logs only its origin, never the token', async () => {
    const { log, lines } = capture();
    // fetch refuses a URL with credentials, quoting it whole in its error.
    const hb = startHeartbeat({ url: 'http://user:secrettoken@127.0.0.1:9/ping/secrettoken', intervalMs: 60_000, healthy: () => true, log });
    try {
      const warn = await waitUntil(() => lines.find((l) => l.includes('heartbeat failed')), { what: 'the heartbeat failure' });
      expect(warn).toContain('http://127.0.0.1:9');
      expect(lines.join('')).not.toContain('secrettoken');
    } finally {
      hb.stop();
    }
  });

  it('a health check that throws is a failed heartbeat, not an unhandled rejection', async () => {
    const { log, lines } = capture();
    const hb = startHeartbeat({
      url: 'http://127.0.0.1:9/ping',
      intervalMs: 60_000,
      healthy: () => {
        throw new Error('status broke');
      },
      log,
    });
    try {
      const warn = await waitUntil(() => lines.find((l) => l.includes('heartbeat failed')), { what: 'the heartbeat failure' });
      expect(warn).toContain('status broke');
    } finally {
      hb.stop();
    }
  });

  it('scrubUrls replaces every URL by the origin', () => {
    expect(scrubUrls('bad: https://u:p@h.example/t?x=1 and http://h.example/abc.', 'https://h.example')).toBe(
      'bad: https://h.example and https://h.example',
    );
  });
});
