/**
 * The image, end to end: build the real Dockerfile (build-image.sh: podman/buildah, vfs,
 * chroot isolation, a debootstrap base with this host's Node), run it with a /data volume
 * and a replica, write through the demo app, stop the container with SIGTERM, delete the
 * database, start a new container: the data is back. Replicas: a host directory mounted at
 * /replica, and s3rver on the host loopback (host networking). Sidecar mode too: the app and
 * `lifeboat replicate` in two containers sharing /data, as examples/sidecar/compose.yaml.
 *
 * Skips, printing why, when not root or without podman, buildah, runc and debootstrap —
 * except with CI=true, where that is a failure. Slow: ~4 min to build on a fresh machine
 * (the base image is reused when it exists), ~3 min to run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { TEST_S3_ENV } from '../helpers/credentials.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { tmpDir } from '../helpers/tmp.js';
import { freePort, getNotes, postNote, type Note } from './demo-client.js';
import { ensureImage } from './image-once.js';
import { IMAGE, logs, podmanOk, remove, runDetached, runOnce as runOnceRaw, skipReason, stop, waitHttp, type RunOptions } from './podman.js';

const reason = skipReason();
const MINUTE = 60_000;
const DB = '/data/app.db';
const DEMO = ['node', '/app/examples/demo/server.mjs'];
const RESTORE = ['lifeboat', 'restore', '-if-db-not-exists', '-if-replica-exists', DB];
const started: string[] = [];
let serial = 0;

if (reason) console.log(`container test skipped: ${reason}`);

describe.runIf(reason !== undefined && process.env.CI === 'true')('container test prerequisites', () => {
  it('runs as root with podman, buildah, runc and debootstrap (CI=true)', () => {
    throw new Error(`cannot run the container test: ${reason}`);
  });
});

/**
 * testConfig is the image's /etc/lifeboat.yml with `addr: "127.0.0.1:0"`: the containers
 * share the host's network and run beside other tests, so no fixed port (the image's :9091).
 */
let testConfig = '';

function writeTestConfig(): string {
  const text = fs.readFileSync(path.join(ROOT, 'examples/demo/lifeboat.yml'), 'utf8');
  expect(text).toMatch(/^addr: ":9091"$/m);
  const file = path.join(tmpDir('lifeboat-ct-config-'), 'lifeboat.yml');
  fs.writeFileSync(file, text.replace(/^addr: .*$/m, 'addr: "127.0.0.1:0"'), { mode: 0o644 });
  return file;
}

/** withConfig mounts the test config over the image's. */
function withConfig<T extends Omit<RunOptions, 'name'>>(opts: T): T {
  return { ...opts, volumes: { ...opts.volumes, [testConfig]: '/etc/lifeboat.yml:ro' } };
}

/** start runs a container (named uniquely, removed after the file) and returns its name. */
async function start(opts: Omit<RunOptions, 'name'>): Promise<string> {
  const name = `lifeboat-test-${process.pid}-${++serial}`;
  started.push(name);
  return runDetached({ ...withConfig(opts), name });
}

/** runOnce runs a container to completion with the test config. */
function runOnce(opts: Omit<RunOptions, 'name'>): ReturnType<typeof runOnceRaw> {
  return runOnceRaw(withConfig(opts));
}

/** writeNotes posts `count` notes and checks that the app lists exactly those. */
async function writeNotes(base: string, count: number): Promise<Note[]> {
  const notes: Note[] = [];
  for (let i = 1; i <= count; i++) notes.push(await postNote(base, `note ${i} — written before the stop`));
  expect(await getNotes(base)).toEqual(notes);
  return notes;
}

/** stopSynced stops a container with SIGTERM and expects exit 0 after a complete final sync. */
async function stopSynced(name: string): Promise<string> {
  const code = await stop(name);
  const out = await logs(name);
  expect(code, out).toBe(0);
  expect(out).toMatch(/signal=SIGTERM/);
  expect(out).toMatch(/final sync complete/);
  return out;
}

/** removeDb deletes the database and its WAL and shared-memory files from the host's volume dir. */
function removeDb(dataDir: string): void {
  for (const f of ['app.db', 'app.db-wal', 'app.db-shm']) fs.rmSync(path.join(dataDir, f), { force: true });
  expect(fs.existsSync(path.join(dataDir, 'app.db'))).toBe(false);
}

/**
 * restoreCycle: init mode. Boot (no backup yet), write, SIGTERM, `wipe` the volume, boot a
 * new container: it restores, and the app lists the same notes.
 */
async function restoreCycle(run: Omit<RunOptions, 'name'>, wipe: () => void): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const opts = { ...run, env: { ...run.env, PORT: String(port) } };
  const first = await start(opts);
  await waitHttp(`${base}/healthz`, first);
  const notes = await writeNotes(base, 20);
  const out1 = await stopSynced(first);
  expect(out1).toMatch(/no matching backups found/);
  wipe();
  const second = await start(opts);
  await waitHttp(`${base}/healthz`, second);
  expect(await getNotes(base)).toEqual(notes);
  const out2 = await stopSynced(second);
  expect(out2).toMatch(new RegExp(`restored ${DB} from`));
  // The second container continues the restored generation: no new one, no full snapshot.
  expect(out2).toMatch(/continuing the restored generation/);
  expect(out2).not.toMatch(/new generation|taking snapshot/);
}

describe.skipIf(reason !== undefined)(`the lifeboat image${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let s3: S3rver | undefined;

  beforeAll(async () => {
    await ensureImage();
    testConfig = writeTestConfig();
  }, 35 * MINUTE);

  afterAll(async () => {
    await remove(...started);
    await s3?.stop();
  }, 2 * MINUTE);

  it('file replica: SIGTERM, database deleted, a new container restores it', async () => {
    const data = tmpDir('lifeboat-ct-data-');
    const replica = tmpDir('lifeboat-ct-replica-');
    await restoreCycle({ env: { REPLICA_URL: 'file:///replica' }, volumes: { [data]: '/data', [replica]: '/replica' } }, () => removeDb(data));
    expect(fs.readdirSync(path.join(replica, 'generations'))).toHaveLength(1);
  }, 6 * MINUTE);

  it('s3 replica on the host loopback: a new container on an empty volume restores it', async () => {
    s3 = await startS3rver();
    await s3.bucket('backups');
    const data = tmpDir('lifeboat-ct-data-');
    const env = {
      REPLICA_URL: `s3://backups/demo?endpoint=${encodeURIComponent(s3.endpoint)}`,
      ...TEST_S3_ENV,
    };
    const wipeVolume = () => {
      fs.rmSync(data, { recursive: true, force: true });
      fs.mkdirSync(data);
    };
    await restoreCycle({ env, volumes: { [data]: '/data' } }, wipeVolume);
    const puts = (await s3.requests()).filter((r) => r.method === 'PUT' && r.key.startsWith('demo/generations/'));
    expect(puts.length).toBeGreaterThan(0);
  }, 6 * MINUTE);

  it('sidecar mode: the app and `lifeboat replicate` in two containers sharing /data', async () => {
    const data = tmpDir('lifeboat-ct-data-');
    const replica = tmpDir('lifeboat-ct-replica-');
    const volumes = { [data]: '/data', [replica]: '/replica' };
    const env = { REPLICA_URL: 'file:///replica' };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // As compose.yaml: restore (nothing yet), then the replicator, then the app.
    const boot = await runOnce({ entrypoint: RESTORE, env, volumes });
    expect(boot.exitCode, boot.output).toBe(0);
    const sidecar = await start({ entrypoint: ['lifeboat', 'replicate'], env, volumes });
    const app = await start({ entrypoint: DEMO, env: { PORT: String(port) }, volumes: { [data]: '/data' } });
    await waitHttp(`${base}/healthz`, app);
    const notes = await writeNotes(base, 20);
    // The app first, then the replicator: its final sync.
    expect(await stop(app)).toBe(0);
    await stopSynced(sidecar);
    removeDb(data);
    const restored = await runOnce({ entrypoint: RESTORE, env, volumes });
    expect(restored.exitCode, restored.output).toBe(0);
    expect(restored.output).toMatch(new RegExp(`restored ${DB} from`));
    const app2 = await start({ entrypoint: DEMO, env: { PORT: String(port) }, volumes: { [data]: '/data' } });
    await waitHttp(`${base}/healthz`, app2);
    expect(await getNotes(base)).toEqual(notes);
    expect(await stop(app2)).toBe(0);
  }, 8 * MINUTE);

  it('as uid 1000 through setpriv (the docs/docker.md recipe): same cycle, files owned by 1000', async () => {
    const data = tmpDir('lifeboat-ct-data-');
    const replica = tmpDir('lifeboat-ct-replica-');
    const script = 'chown -R 1000:1000 /data /replica && exec setpriv --reuid=1000 --regid=1000 --clear-groups lifeboat init "$@"';
    const run = {
      entrypoint: ['/bin/sh', '-c', script, 'lifeboat-init'],
      command: DEMO,
      env: { REPLICA_URL: 'file:///replica' },
      volumes: { [data]: '/data', [replica]: '/replica' },
    };
    await restoreCycle(run, () => removeDb(data));
    expect(fs.statSync(path.join(data, 'app.db')).uid).toBe(1000);
    expect(fs.statSync(path.join(replica, 'generations')).uid).toBe(1000);
  }, 6 * MINUTE);

  it('keeps the Dockerfile\'s HEALTHCHECK (lifeboat status -no-replica, a 10m start period)', async () => {
    const [image] = JSON.parse(await podmanOk(['image', 'inspect', IMAGE])) as Record<string, unknown>[];
    const config = image.Config as Record<string, unknown> | undefined;
    const hc = (image.Healthcheck ?? image.HealthCheck ?? config?.Healthcheck) as { Test?: string[]; StartPeriod?: number } | undefined;
    expect(hc, JSON.stringify(image).slice(0, 2000)).toBeDefined();
    expect(hc!.Test).toEqual(['CMD-SHELL', 'lifeboat status -no-replica > /dev/null || exit 1']);
    expect(hc!.StartPeriod).toBe(10 * 60 * 1e9);
  }, 2 * MINUTE);

  it("s6-overlay's names: /init runs the CMD as the app, with-contenv reads the saved environment, litestream is lifeboat, the user's /etc/litestream.yml wins", async () => {
    const dir = tmpDir('lifeboat-ct-s6-');
    const userConfig = path.join(dir, 'litestream.yml');
    fs.writeFileSync(userConfig, 'dbs:\n  - path: /data/user.db\n    replicas:\n      - url: file:///replica/user\n', { mode: 0o644 });
    // A v2 cont-init.d script as kept in git: mode 0644, run through with-contenv.
    const contInit = path.join(dir, 'cont-init.d');
    fs.mkdirSync(contInit);
    fs.writeFileSync(path.join(contInit, '00-hello'), '#!/usr/bin/with-contenv sh\necho "cont-init FOO=$FOO"\n');
    fs.chmodSync(path.join(contInit, '00-hello'), 0o644);
    const app = [
      'echo "pid1: $(tr "\\0" " " < /proc/1/cmdline)"',
      'echo "saved: $(cat /run/s6/container_environment/FOO)"',
      '[ /var/run/s6/container_environment/FOO -ef /run/s6/container_environment/FOO ] && echo "v2 path: same file"',
      "/usr/bin/with-contenv sh -c 'echo \"usr-bin: $FOO\"'",
      '/command/with-contenv printenv FOO | sed "s/^/command: /"',
      'litestream version',
      'litestream databases',
      'litestream restore -v -if-replica-exists -o /tmp/restored.db /data/user.db',
      'exit 3',
    ].join('; ');
    const r = await runOnceRaw({
      entrypoint: ['/init'],
      command: ['sh', '-c', app],
      env: { FOO: 'bar baz' },
      volumes: { [userConfig]: '/etc/litestream.yml:ro', [contInit]: '/etc/cont-init.d', [tmpDir('lifeboat-ct-replica-')]: '/replica' },
    });
    const out = r.output;
    expect(r.exitCode, out).toBe(3);
    expect(out).toMatch(/^pid1: node --lite-mode \/app\/bin\/\.\.\/dist\/cli\/main\.js init sh -c /m);
    expect(out).toMatch(/made executable, as s6-overlay does file=\/etc\/cont-init.d\/00-hello/);
    expect(out).toMatch(/^(?:\d{4}-\d\d-\d\dT[\d:.]+Z )?cont-init.d\/00-hello \| cont-init FOO=bar baz$/m);
    for (const l of ['saved: bar baz', 'v2 path: same file', 'usr-bin: bar baz', 'command: bar baz', 'lifeboat v']) expect(out).toContain(l);
    expect(out).toMatch(/^\/data\/user\.db\s+\S+$/m);
    expect(out).not.toContain('/data/app.db');
    expect(out).toMatch(/^(?:\d{4}-\d\d-\d\dT[\d:.]+Z )?no matching backups found: .* \(-if-replica-exists\)$/m);
    expect(fs.statSync(path.join(contInit, '00-hello')).mode & 0o777).toBe(0o755);
  }, 3 * MINUTE);

  it('uses the demo config only when no config is given', async () => {
    const r = await runOnceRaw({ entrypoint: ['lifeboat', 'databases'], env: { REPLICA_URL: 'file:///replica' } });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/^\/data\/app\.db\s+\S+$/m);
  }, 2 * MINUTE);

  it("keeps its database under fly.toml's [mounts] destination", async () => {
    const r = await runOnce({ entrypoint: ['lifeboat', 'databases'], env: { REPLICA_URL: 'file:///replica' } });
    expect(r.exitCode, r.output).toBe(0);
    const fly = parseToml(fs.readFileSync(path.join(ROOT, 'fly.toml'), 'utf8')) as { mounts: { destination: string } };
    // The rows after the header (podman may print its own `time=… level=warning` lines first).
    const lines = r.output.split('\n');
    const paths = lines.slice(lines.findIndex((l) => /^path\s/.test(l)) + 1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
    expect(paths).toEqual([DB]);
    expect(path.relative(fly.mounts.destination, DB).startsWith('..')).toBe(false);
  }, 2 * MINUTE);
});
