/** prestart: the early replicator process is tracked, so the reaper never takes its exit from libuv; its config pipe. */
import { describe, expect, it } from 'vitest';
import { Prestarted } from '../../src/supervisor/prestart.js';
import { trackSpawns } from '../../src/supervisor/reaper.js';
import { waitUntil } from '../helpers/wait.js';

/** prestart spawns `node -e script` the way the init prestarts the replicator (script args after `--`). */
function prestart(script: string): Prestarted {
  return Prestarted.spawn({ name: 'replicate', command: [process.execPath, '-e', script, '--'], notificationFd: 3, prefix: true });
}

describe('Prestarted', () => {
  it('is tracked from its spawn, before anything else starts the reaper, and its exit still reaches us', async () => {
    const p = prestart('require("fs").readSync(4, Buffer.alloc(8)); process.exit(7)');
    const child = p.take()!;
    expect(child.pid).toBeDefined();
    expect(trackSpawns().has(child.pid!)).toBe(true);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(7);
    expect(trackSpawns().has(child.pid!)).toBe(false);
  });

  it('discard lets a waiting process go: its start pipe ends', async () => {
    const p = prestart('const n = require("fs").readSync(4, Buffer.alloc(8)); process.exit(n === 0 ? 0 : 9)');
    const spawned = trackSpawns();
    expect(spawned.size).toBe(1);
    const [pid] = [...spawned];
    p.discard();
    expect(p.take()).toBeUndefined();
    await waitUntil(() => !spawned.has(pid), { what: `the discarded process ${pid} to exit` });
  });

  it('parsedConfig is what the process wrote on fd 5 and closed; undefined for nothing written, or past the wait', async () => {
    const wrote = prestart('const fs = require("fs"); fs.writeSync(5, "{\\"src\\":\\"x\\"}"); fs.closeSync(5); fs.readSync(4, Buffer.alloc(8))');
    expect(await wrote.parsedConfig(10_000)).toBe('{"src":"x"}');
    wrote.discard();
    const empty = prestart('const fs = require("fs"); fs.closeSync(5); fs.readSync(4, Buffer.alloc(8))');
    expect(await empty.parsedConfig(10_000)).toBeUndefined();
    empty.discard();
    const silent = prestart('require("fs").readSync(4, Buffer.alloc(8))');
    const t0 = Date.now();
    expect(await silent.parsedConfig(300)).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    silent.discard();
    const spawned = trackSpawns();
    await waitUntil(() => spawned.size === 0, { what: 'the three processes to exit' });
  });

  it('parsedConfig sees an end that came before it was asked (the process closed fd 5 and exited): no wait', async () => {
    const p = prestart('require("fs").closeSync(5)');
    const spawned = trackSpawns();
    const [pid] = [...spawned];
    await waitUntil(() => !spawned.has(pid), { what: `the process ${pid} to exit` });
    const t0 = Date.now();
    expect(await p.parsedConfig(10_000)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5_000);
    p.discard();
  });

  it('parsedConfig ends when its abort signal fires, long before its time limit', async () => {
    const p = prestart('require("fs").readSync(4, Buffer.alloc(8))');
    const stop = new AbortController();
    const t0 = Date.now();
    setTimeout(() => stop.abort(), 100);
    expect(await p.parsedConfig(60_000, stop.signal)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(30_000);
    p.discard();
    const spawned = trackSpawns();
    await waitUntil(() => spawned.size === 0, { what: 'the process to exit' });
  });
});
