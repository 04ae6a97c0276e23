/**
 * The shipped container files, checked without building anything: fly.toml parses and its
 * numbers fit the init (the volume holds the config's database, kill_timeout covers the
 * graces, the health check is the demo's /healthz); the Dockerfile passes dockerfile-utils'
 * linter and has the shape the docs promise; .dockerignore lets in everything the
 * Dockerfile copies; the sidecar compose file starts and stops in the right order; the
 * shipped services.d reads as the init reads it; bin/init (the image's /init) runs, here.
 */
import { validate } from 'dockerfile-utils';
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import {
  DEFAULT_APP_GRACETIME,
  DEFAULT_KILL_GRACETIME,
  DEFAULT_SERVICES_GRACETIME,
  DEFAULT_SYNC_GRACETIME,
} from '../../src/supervisor/knobs.js';
import { REPLICATOR_NODE_FLAGS } from '../../src/supervisor/builtin.js';
import { readServicesDir } from '../../src/supervisor/service-dir.js';
import { ROOT } from '../helpers/cli.js';
import { FAST_KNOBS } from '../helpers/procs.js';

const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');
const DOCKERFILE = read('Dockerfile');
/** IMAGE_CONFIG is the demo's config, the image's $LIFEBOAT_DEFAULT_CONFIG. */
const IMAGE_CONFIG = 'examples/demo/lifeboat.yml';

interface FlyToml {
  kill_signal?: string;
  kill_timeout?: string | number;
  env?: Record<string, string>;
  mounts?: { source: string; destination: string };
  http_service?: { internal_port: number; checks?: { path?: string; method?: string }[] };
  checks?: Record<string, { type?: string; port?: number; path?: string; grace_period?: string }>;
  metrics?: { port?: number; path?: string };
}
const fly = parseToml(read('fly.toml')) as FlyToml;

/** seconds reads a Fly duration: a number of seconds or a Go-style string ("15s", "1m30s"). */
function seconds(v: string | number | undefined): number {
  if (typeof v === 'number') return v;
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(v ?? '');
  if (!v || !m) throw new Error(`kill_timeout: not a duration: ${JSON.stringify(v)}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

describe('fly.toml', () => {
  it('kill_timeout covers the app, services, final sync and leftover graces it sets', () => {
    const env = fly.env ?? {};
    const ms = (k: string, dflt: number) => (env[k] === undefined ? dflt : Number(env[k]));
    const graces = [
      ms('LIFEBOAT_APP_GRACETIME', DEFAULT_APP_GRACETIME),
      ms('LIFEBOAT_SERVICES_GRACETIME', DEFAULT_SERVICES_GRACETIME),
      ms('LIFEBOAT_SYNC_GRACETIME', DEFAULT_SYNC_GRACETIME),
      ms('LIFEBOAT_KILL_GRACETIME', DEFAULT_KILL_GRACETIME),
    ];
    expect(graces.every(Number.isInteger)).toBe(true);
    const sum = graces.reduce((a, b) => a + b, 0);
    const timeout = seconds(fly.kill_timeout) * 1000;
    expect(timeout).toBeGreaterThan(sum);
    expect(timeout).toBeLessThanOrEqual(300_000);
    expect(['SIGTERM', 'SIGINT']).toContain(fly.kill_signal);
  });

  it("[mounts] destination holds the database of the image's config", async () => {
    expect(DOCKERFILE).toMatch(new RegExp(`LIFEBOAT_DEFAULT_CONFIG=/app/${IMAGE_CONFIG.replace(/\./g, '\\.')}$`, 'm'));
    const config = await loadConfig({ path: path.join(ROOT, IMAGE_CONFIG), env: { REPLICA_URL: 'file:///replica' } });
    expect(config.dbs.map((db) => db.path)).toEqual(['/data/app.db']);
    const dest = fly.mounts?.destination ?? '';
    expect(dest).toMatch(/^\//);
    for (const db of config.dbs) expect(path.relative(dest, db.path)).not.toMatch(/^\.\.|^\/|^$/);
  });

  it('checks /healthz on the port the demo app listens on', () => {
    const svc = fly.http_service!;
    expect(svc.checks?.map((c) => c.path)).toContain('/healthz');
    expect(String(svc.internal_port)).toBe(fly.env?.PORT);
    expect(DOCKERFILE).toMatch(new RegExp(`PORT=${svc.internal_port}\\b`));
  });
});

describe('replication health', () => {
  it("fly.toml's [checks] and [metrics] ask the init on the image config's addr", async () => {
    const config = await loadConfig({ path: path.join(ROOT, IMAGE_CONFIG), env: { REPLICA_URL: 'file:///replica' } });
    const port = Number(/:(\d+)$/.exec(config.addr ?? '')?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(fly.http_service?.internal_port);
    const check = fly.checks?.replication;
    expect(check).toMatchObject({ type: 'http', port, path: '/healthz' });
    expect(seconds(check?.grace_period)).toBeGreaterThanOrEqual(30);
    expect(fly.metrics).toEqual({ port, path: '/metrics' });
  });

  it('the image checks itself with lifeboat status -no-replica, mapping its exit code 2 (reserved by Docker) to 1', () => {
    expect(DOCKERFILE).toMatch(/^HEALTHCHECK .*\\\n\s+CMD lifeboat status -no-replica > \/dev\/null \|\| exit 1$/m);
    // The start period covers a long restore on the first boot.
    expect(/^HEALTHCHECK .*--start-period=(\S+)/m.exec(DOCKERFILE)?.[1]).toBe('10m');
  });
});

describe('Dockerfile', () => {
  it('passes dockerfile-utils (which does flag a broken Dockerfile)', () => {
    expect(validate(DOCKERFILE)).toEqual([]);
    const messages = (text: string) => validate(text).map((d) => d.message);
    expect(messages(`${DOCKERFILE}\nCOPY only-one-argument\n`)).toEqual(['COPY requires at least two arguments']);
    expect(messages(DOCKERFILE.replace(/^ARG NODE_IMAGE=.*$/m, 'ARG'))).toContain('Instruction has no arguments');
  });

  it('is multi-stage on a Node base image ARG, with lifeboat init as the entrypoint', () => {
    const froms = [...DOCKERFILE.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    expect(DOCKERFILE.search(/^ARG NODE_IMAGE=node:\S+-slim$/m)).toBeLessThan(DOCKERFILE.search(/^FROM /m));
    expect(DOCKERFILE).toMatch(/^ENTRYPOINT \["node", "--lite-mode", "\/app\/dist\/cli\/main.js", "init"\]$/m);
    expect(DOCKERFILE).toMatch(/npm prune --omit=dev/);
  });

  it("installs s6-overlay's names: /init, with-contenv, logutil-service, execlineb, s6-log and the s6 commands in /usr/bin and /command, litestream; no config in the lookup path", () => {
    const links = [...DOCKERFILE.matchAll(/ln -s (\S+) \/out(\S+)/g)].map((m) => [m[2], m[1]]);
    expect(Object.fromEntries(links)).toEqual({
      '/usr/local/bin/lifeboat': '/app/dist/cli/main.js',
      '/usr/local/bin/litestream': '/app/dist/cli/main.js',
      '/init': '/app/bin/init',
      '/usr/bin/with-contenv': '/app/bin/with-contenv',
      '/command/with-contenv': '/app/bin/with-contenv',
      '/usr/bin/logutil-service': '/app/bin/logutil-service',
      '/command/logutil-service': '/app/bin/logutil-service',
      ...Object.fromEntries(
        ['s6-svc', 's6-svscanctl', 's6-svstat', 's6-svwait'].flatMap((c) => [`/usr/bin/${c}`, `/command/${c}`]).map((p) => [p, '/app/dist/cli/main.js']),
      ),
    });
    // execlineb: Debian's execline in the runtime stage, at s6-overlay v3's path too.
    expect(DOCKERFILE).toMatch(/apt-get install -y --no-install-recommends execline \\/);
    expect(DOCKERFILE).toMatch(/ln -s \/usr\/bin\/execlineb \/command\/execlineb \\$/m);
    // s6-log: only that program out of Debian's s6 package, whose s6-svc, s6-svstat, s6-svwait
    // and s6-svscanctl would replace ours; on /command too.
    expect(DOCKERFILE).not.toMatch(/apt-get install[^\n]* s6\b/);
    expect(DOCKERFILE).toMatch(/dpkg-deb --fsys-tarfile s6_\*\.deb \| tar -x -C \/ \.\/usr\/bin\/s6-log \\$/m);
    expect(DOCKERFILE).toMatch(/ln -s \/usr\/bin\/s6-log \/command\/s6-log$/m);
    expect(DOCKERFILE).toMatch(/cp -a package\.json dist node_modules bin \/out\/app\//);
    expect(DOCKERFILE).not.toMatch(/\/out\/etc\/(lifeboat|litestream)\.yml/);
    // The scripts are executable in git (and so in the build context).
    for (const f of ['bin/init', 'bin/with-contenv', 'bin/logutil-service']) expect(fs.statSync(path.join(ROOT, f)).mode & 0o111, f).toBe(0o111);
  });

  it('bin/init (the image\'s /init) runs lifeboat init under lite mode, its CMD as the app without it, and exits with the app\'s code', async () => {
    const cmdline = (pid: string) => `tr '\\0' ' ' < /proc/${pid}/cmdline; echo`;
    const res = await execa(path.join(ROOT, 'bin/init'), ['sh', '-c', `${cmdline('$PPID')}; ${cmdline('$$')}; exit 3`], {
      env: { ...process.env, ...FAST_KNOBS, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      reject: false,
      timeout: 60_000,
    });
    expect(res.exitCode, res.stderr).toBe(3);
    const [init, app] = res.stdout.split('\n');
    expect(init).toMatch(/^node --lite-mode \S+\/bin\/\.\.\/dist\/cli\/main\.js init sh -c /);
    expect(app).toMatch(/^sh -c /);
  });

  it('.dockerignore lets in every source the Dockerfile copies from the context', () => {
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const sources = [...DOCKERFILE.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) expect(allowed, src).toContain(src);
  });
});

describe('examples/sidecar/compose.yaml', () => {
  interface Service {
    entrypoint?: string[];
    depends_on?: Record<string, { condition: string }>;
    volumes?: string[];
    stop_grace_period?: string;
    environment?: Record<string, string>;
  }
  const compose = parseYaml(read('examples/sidecar/compose.yaml'), { merge: true }) as { services: Record<string, Service> };
  const { restore, replicate, app } = compose.services;

  it('restores first, replicates next, starts the app last (and so stops it first)', () => {
    expect(restore.entrypoint).toEqual(['lifeboat', 'restore', '-if-db-not-exists', '-if-replica-exists', '/data/app.db']);
    expect(replicate.entrypoint).toEqual(['lifeboat', 'replicate']);
    expect(replicate.depends_on?.restore.condition).toBe('service_completed_successfully');
    expect(app.depends_on?.restore.condition).toBe('service_completed_successfully');
    expect(Object.keys(app.depends_on ?? {})).toContain('replicate');
  });

  it('shares /data between the app and the replicator, which gets time for its final sync', () => {
    for (const s of [restore, replicate, app]) expect(s.volumes).toContain('data:/data');
    expect(seconds(replicate.stop_grace_period) * 1000).toBeGreaterThan(DEFAULT_SYNC_GRACETIME);
  });

  it('gives the replicator the replica of the others and the V8 flags the init gives its own', () => {
    expect(replicate.environment?.REPLICA_URL).toBe(restore.environment?.REPLICA_URL);
    expect(replicate.environment?.NODE_OPTIONS?.split(' ')).toEqual(REPLICATOR_NODE_FLAGS);
  });
});

describe('services.d', () => {
  it('holds the example service, every setting valid, shipped down (not started)', () => {
    const services = readServicesDir(path.join(ROOT, 'services.d'));
    expect(services.map((s) => s.name)).toEqual(['example']);
    expect(services[0]).toMatchObject({ down: true, notificationFd: 3, timeoutKill: 3000, downSignal: 'SIGTERM', essential: false });
    expect(services[0].finish?.argv).toEqual([path.join(ROOT, 'services.d/example/finish')]);
  });
});
