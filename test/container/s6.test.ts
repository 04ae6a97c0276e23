/**
 * s6-overlay trees in the real image (build-image.sh, podman), as a user moving from
 * s6-overlay runs them:
 *
 * - Litestream's own s6 example tree (test/fixtures/litestream-s6-example, copied
 *   unchanged; only its Go app replaced by a stand-in that writes rows and exits) with
 *   `ENTRYPOINT ["/init"]`: the first boot writes and tears the container down through the
 *   app's execlineb `finish` (`s6-svscanctl -t /var/run/s6/services`); a second boot on an
 *   empty /data restores every row; one replicator in each boot; both exit within 60 s.
 * - `s6-svc -d` / `-u` and `s6-svstat` on a running service through `podman exec`.
 *
 * Skips, printing why, when not root or without podman, buildah, runc and debootstrap —
 * except with CI=true, where that is a failure.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { ensureImage } from './image-once.js';
import { logs, podman, podmanOk, remove, runDetached, skipReason, stop, type RunOptions } from './podman.js';

const reason = skipReason();
const MINUTE = 60_000;
const EXAMPLE = path.join(ROOT, 'test/fixtures/litestream-s6-example');
const started: string[] = [];
let serial = 0;

if (reason) console.log(`container test skipped: ${reason}`);

describe.runIf(reason !== undefined && process.env.CI === 'true')('container test prerequisites (s6)', () => {
  it('runs as root with podman, buildah, runc and debootstrap (CI=true)', () => {
    throw new Error(`cannot run the container test: ${reason}`);
  });
});

/** exampleTree copies the example's etc/ to a fresh directory (the init may chmod its scripts there, not in git). */
function exampleTree(): string {
  const dir = tmpDir('lifeboat-ct-s6tree-');
  fs.cpSync(path.join(EXAMPLE, 'etc'), dir, { recursive: true });
  return dir;
}

/** bootExample runs the image as the example's Dockerfile does, to its end; returns exit code, output and seconds taken. */
async function bootExample(tree: string, data: string, replica: string): Promise<{ code: number; output: string; seconds: number }> {
  const name = `lifeboat-s6-${process.pid}-${++serial}`;
  started.push(name);
  const opts: RunOptions = {
    name,
    // The example's Dockerfile: ENV S6_KILL_GRACETIME=0 S6_SYNC_DISKS=1, ENTRYPOINT ["/init"] (no CMD).
    env: { REPLICA_URL: 'file:///replica', S6_KILL_GRACETIME: '0', S6_SYNC_DISKS: '1' },
    volumes: {
      [path.join(tree, 'cont-init.d')]: '/etc/cont-init.d',
      [path.join(tree, 'services.d')]: '/etc/services.d',
      [path.join(tree, 'litestream.yml')]: '/etc/litestream.yml:ro',
      [path.join(EXAMPLE, 'myapp')]: '/usr/local/bin/myapp:ro',
      [data]: '/data',
      [replica]: '/replica',
    },
    entrypoint: ['/init'],
  };
  const t0 = Date.now();
  await runDetached(opts);
  await waitUntil(async () => String((await podman(['inspect', '--format', '{{.State.Running}}', name])).stdout).trim() === 'false', {
    what: `${name} to exit`,
    timeoutMs: 90_000,
    intervalMs: 250,
    detail: () => logs(name),
  });
  const seconds = (Date.now() - t0) / 1000;
  const code = Number(await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name]));
  return { code, output: await logs(name), seconds };
}

function rows(dbFile: string): number {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(1) AS n FROM page_views').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe.skipIf(reason !== undefined)('s6-overlay trees in the image', () => {
  beforeAll(async () => {
    await ensureImage();
  }, 35 * MINUTE);

  afterAll(async () => {
    await remove(...started);
  }, 2 * MINUTE);

  it("Litestream's s6 example: writes, stops through s6-svscanctl -t, restores every row on an empty /data", async () => {
    const tree = exampleTree();
    const replica = tmpDir('lifeboat-ct-replica-');
    const first = tmpDir('lifeboat-ct-data-');
    const one = await bootExample(tree, first, replica);
    expect(one.output).toContain('myapp | myapp: found 0 rows');
    expect(one.output).toContain('myapp | myapp: wrote 50 rows, 50 in all');
    expect(one.output).toMatch(/s6-svscanctl -t: stopping the container/);
    expect(one.code, one.output).toBe(0);
    expect(one.seconds).toBeLessThan(60);
    expectOneReplicator(one.output);
    expect(rows(path.join(first, 'db'))).toBe(50);

    const second = tmpDir('lifeboat-ct-data-');
    const two = await bootExample(tree, second, replica);
    expect(two.output).toContain('myapp | myapp: found 50 rows');
    expect(two.output).toContain('myapp | myapp: wrote 50 rows, 100 in all');
    expect(two.code, two.output).toBe(0);
    expect(two.seconds).toBeLessThan(60);
    expectOneReplicator(two.output);
    expect(rows(path.join(second, 'db'))).toBe(100);
  }, 8 * MINUTE);

  it('s6-svc -d / -u and s6-svstat on a running service, from podman exec', async () => {
    const services = tmpDir('lifeboat-ct-s6svc-');
    fs.mkdirSync(path.join(services, 'web'));
    fs.writeFileSync(path.join(services, 'web/run'), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 });
    const name = `lifeboat-s6-${process.pid}-${++serial}`;
    started.push(name);
    await runDetached({ name, volumes: { [services]: '/etc/services.d' }, entrypoint: ['/init'], command: ['sleep', '1000'], env: { LIFEBOAT_DEFAULT_CONFIG: '' } });
    const exec = async (...argv: string[]) => {
      const r = await podman(['exec', name, ...argv]);
      return { code: r.exitCode, out: String(r.stdout).trim(), err: String(r.stderr).trim() };
    };
    const up = await waitUntil(async () => {
      const r = await exec('s6-svstat', '/run/service/web');
      return r.code === 0 && r.out.startsWith('up') ? r : undefined;
    }, { what: 'web up in s6-svstat', timeoutMs: 60_000, intervalMs: 250, detail: () => logs(name) });
    expect(up.out).toMatch(/^up \(pid \d+\) \d+ seconds, ready \d+ seconds$/);
    // v2's path names the same service.
    expect((await exec('s6-svstat', '-o', 'up,pid', '/var/run/s6/services/web')).out).toBe(`true ${/pid (\d+)/.exec(up.out)![1]}`);
    expect(await exec('/command/s6-svc', '-wD', '-T', '10000', '-d', '/run/service/web')).toMatchObject({ code: 0, err: '' });
    expect((await exec('s6-svstat', '/run/service/web')).out).toMatch(/^down \(signal SIGTERM\) \d+ seconds, normally up, ready \d+ seconds$/);
    // Our restart policy (1 s) must not bring it back.
    expect((await exec('s6-svwait', '-u', '-t', '2500', '/run/service/web')).code).toBe(99);
    expect(await exec('/usr/bin/s6-svc', '-wU', '-T', '10000', '-u', '/var/run/s6/services/web')).toMatchObject({ code: 0, err: '' });
    const again = await exec('s6-svstat', '/run/service/web');
    expect(again.out).toMatch(/^up \(pid \d+\) \d+ seconds, ready \d+ seconds$/);
    expect(again.out).not.toBe(up.out);
    const bad = await exec('s6-svc', '-u', '/run/service/nosuch');
    expect(bad.code).toBe(100);
    expect(bad.err.split('\n')[0]).toMatch(/^s6-svc: fatal: unable to control \/run\/service\/nosuch: supervisor not listening/);
    expect(await stop(name)).toBe(143);
  }, 4 * MINUTE);
});

/**
 * expectOneReplicator: the init's built-in replicator replicated /data/db, and the tree's
 * `litestream replicate` service left it to the init instead of replicating it too.
 */
function expectOneReplicator(output: string): void {
  expect(output).toMatch(/litestream \| .*lifeboat init replicates this database already: left to the init's replicator db=\/data\/db/);
  expect(output).not.toMatch(/litestream \| .*(replicating|initialized db)/i);
}
