/**
 * s6-overlay trees in the real image (issue 15, must-show 2 and 4): a v3 tree mounted at
 * /etc/s6-overlay — a oneshot that makes a directory, a longrun depending on it with a
 * `log/` logger and a notification-fd, a bundle — comes up in order, goes down in reverse,
 * and the CMD's code is the container's; a `log/run` of logutil-service or s6-log writes
 * rotated, timestamped logs; S6_KILL_GRACETIME=0,
 * S6_BEHAVIOUR_IF_STAGE2_FAILS=2 and S6_CMD_WAIT_FOR_SERVICES_MAXTIME do what s6-overlay
 * documents. Skips as image.test.ts does (root, podman, buildah, runc, debootstrap).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp.js';
import { ensureImage } from './image-once.js';
import { runOnce, skipReason } from './podman.js';

const reason = skipReason();
const MINUTE = 60_000;
/** NO_CONFIG: no config file, so no replication (the demo's config is not used). */
const NO_CONFIG = { LIFEBOAT_DEFAULT_CONFIG: '' };

if (reason) console.log(`s6-overlay container test skipped: ${reason}`);

describe.runIf(reason !== undefined && process.env.CI === 'true')('s6-overlay container test prerequisites', () => {
  it('runs as root with podman, buildah, runc and debootstrap (CI=true)', () => {
    throw new Error(`cannot run the container test: ${reason}`);
  });
});

/** writeTree writes `files` (path under the tree → shell body, or `=text` for a plain file) as an /etc/s6-overlay tree; returns its host dir. */
function writeTree(files: Record<string, string>): string {
  const base = tmpDir('lifeboat-ct-s6-');
  for (const [rel, body] of Object.entries(files)) {
    const p = path.join(base, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (body.startsWith('=')) fs.writeFileSync(p, body.slice(1), { mode: 0o644 });
    else fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return base;
}

/** lines are the output without the init's leading timestamps. */
function lines(output: string): string[] {
  return output.split('\n').map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''));
}

/** inOrder expects every pattern to match a line, each after the one before. */
function inOrder(output: string, order: RegExp[]): void {
  const all = lines(output);
  const at = order.map((re) => all.findIndex((l) => re.test(l)));
  expect(at.map((i, k) => (i < 0 ? `missing ${order[k]}` : '')).filter(Boolean), output).toEqual([]);
  expect([...at].sort((x, y) => x - y), output).toEqual(at);
}

/** A v3 tree: user → bundle web-stack → {web, after-web}; web depends on the oneshot prepare. */
const V3_TREE = {
  's6-rc.d/user/type': '=bundle\n',
  's6-rc.d/user/contents.d/web-stack': '=',
  's6-rc.d/web-stack/type': '=bundle\n',
  's6-rc.d/web-stack/contents.d/web': '=',
  's6-rc.d/web-stack/contents.d/after-web': '=',
  's6-rc.d/prepare/type': '=oneshot\n',
  's6-rc.d/prepare/dependencies.d/base': '=',
  's6-rc.d/prepare/up': '=/etc/s6-overlay/scripts/prepare\n',
  's6-rc.d/prepare/down': '=/etc/s6-overlay/scripts/unprepare\n',
  's6-rc.d/web/type': '=longrun\n',
  's6-rc.d/web/dependencies.d/prepare': '=',
  's6-rc.d/web/notification-fd': '=3\n',
  's6-rc.d/web/run': 'test -d /run/prepared || exit 9\necho web saw /run/prepared\nsleep 0.5\ntouch /run/web-ready\necho >&3\nexec 3>&-\ntrap "echo web got TERM; touch /run/web-stopped; exit 0" TERM\nwhile :; do sleep 0.1; done',
  's6-rc.d/web/log/run': 'while read -r l; do echo "logged: $l"; done\necho logger got EOF',
  's6-rc.d/after-web/type': '=longrun\n',
  's6-rc.d/after-web/dependencies.d/web': '=',
  's6-rc.d/after-web/run': 'test -f /run/web-ready && echo after-web saw web ready\nexec sleep 1000',
  's6-rc.d/unused/type': '=longrun\n',
  's6-rc.d/unused/run': 'echo unused started\nexec sleep 1000',
  'scripts/prepare': 'mkdir /run/prepared && echo prepared',
  'scripts/unprepare': 'test -f /run/web-stopped && rmdir /run/prepared && echo unprepared after web stopped',
};

describe.skipIf(reason !== undefined)(`s6-overlay trees in the image${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(async () => {
    await ensureImage();
  }, 35 * MINUTE);

  it('a v3 tree: dependency order up, readiness, log/ logger, reverse order down; the CMD code is the exit code', async () => {
    const tree = writeTree(V3_TREE);
    const app = 'test -f /run/web-ready && test -d /run/prepared && echo app saw web ready; exit 7';
    const r = await runOnce({ entrypoint: ['/init'], command: ['sh', '-c', app], env: NO_CONFIG, volumes: { [tree]: '/etc/s6-overlay:ro' } });
    expect(r.exitCode, r.output).toBe(7);
    expect(r.output).not.toContain('unused started');
    expect(lines(r.output)).toContain('after-web | after-web saw web ready');
    // The init logs on stderr, the services' lines come on stdout: podman's capture may
    // interleave the two streams out of order, so order is asserted within each stream, and
    // across services by what each script checks before it prints (/run/prepared,
    // /run/web-ready, /run/web-stopped).
    inOrder(r.output, [
      /INFO oneshot up service=prepare/,
      /INFO longrun start service=web$/,
      /INFO longrun ready service=web$/,
      /INFO longrun start service=after-web$/,
      /INFO app exited code=7/,
      /INFO longrun stop service=after-web$/,
      /INFO longrun stop service=web$/,
      /INFO oneshot down service=prepare$/,
      /INFO init exiting code=7/,
    ]);
    inOrder(r.output, [/^web\/log \| logged: web saw \/run\/prepared$/, /^web\/log \| logged: web got TERM$/, /^web\/log \| logger got EOF$/]);
    inOrder(r.output, [/^prepare \| prepared$/, /^prepare \| unprepared after web stopped$/]);
    expect(lines(r.output)).toContain('app saw web ready');
  }, 3 * MINUTE);

  it('S6_BEHAVIOUR_IF_STAGE2_FAILS: 2 stops the container when a oneshot fails, 0 runs the CMD anyway', async () => {
    const tree = writeTree({ 's6-rc.d/user/type': '=bundle\n', 's6-rc.d/user/contents.d/setup': '=', 's6-rc.d/setup/type': '=oneshot\n', 's6-rc.d/setup/up': '=false\n' });
    const opts = (v: string) => ({ entrypoint: ['/init'], command: ['echo', 'app ran'], env: { ...NO_CONFIG, S6_BEHAVIOUR_IF_STAGE2_FAILS: v }, volumes: { [tree]: '/etc/s6-overlay:ro' } });
    const stopped = await runOnce(opts('2'));
    expect(stopped.exitCode, stopped.output).toBe(111);
    expect(stopped.output).toContain('ERROR init failed: s6-rc services failed to come up: setup');
    expect(stopped.output).not.toContain('app ran');
    const carried = await runOnce(opts('0'));
    expect(carried.exitCode, carried.output).toBe(0);
    expect(lines(carried.output)).toContain('app ran');
  }, 3 * MINUTE);

  it('S6_CMD_WAIT_FOR_SERVICES_MAXTIME: a service never ready stops the boot at that time (S6_BEHAVIOUR_IF_STAGE2_FAILS=2)', async () => {
    const tree = writeTree({
      's6-rc.d/user/type': '=bundle\n',
      's6-rc.d/user/contents.d/never': '=',
      's6-rc.d/never/type': '=longrun\n',
      's6-rc.d/never/notification-fd': '=3\n',
      's6-rc.d/never/run': 'exec sleep 1000',
    });
    const env = { ...NO_CONFIG, S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '1500', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' };
    const t0 = Date.now();
    const r = await runOnce({ entrypoint: ['/init'], command: ['echo', 'app ran'], env, volumes: { [tree]: '/etc/s6-overlay:ro' } });
    expect(r.exitCode, r.output).toBe(111);
    expect(r.output).toContain('ERROR init failed: s6-rc services not up within 1500 ms (S6_CMD_WAIT_FOR_SERVICES_MAXTIME)');
    expect(r.output).not.toContain('app ran');
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 3 * MINUTE);

  it('log/ with logutil-service and s6-log: timestamped lines in DIR/current, S6_LOGGING_SCRIPT honoured, rotation to @….s archives', async () => {
    const tree = writeTree({
      'svc/run': 'for i in 1 2 3; do echo "svc line $i"; done\necho "secret line"\ntouch /run/svc-done\nexec sleep 1000',
      'svc/log/run': 'exec logutil-service /var/log/svc',
      'rot/run': 'i=0\nwhile [ $i -lt 300 ]; do i=$((i + 1)); echo "rot line $i ................................"; done\ntouch /run/rot-done\nexec sleep 1000',
      'rot/log/run': 'exec s6-log n3 s2000 T /var/log/rot',
    });
    // Mounted at /var/log, which nobody (logutil-service's user) must be able to traverse.
    const logs = tmpDir('lifeboat-ct-s6log-');
    fs.chmodSync(logs, 0o755);
    const app = 'while ! [ -f /run/svc-done ] || ! [ -f /run/rot-done ]; do sleep 0.1; done; echo app saw both';
    // The default script with a deselection (-^secret) added: the lines that match are not logged.
    const env = { ...NO_CONFIG, S6_LOGGING_SCRIPT: 'n20 s1000000 T -^secret' };
    const r = await runOnce({ entrypoint: ['/init'], command: ['sh', '-c', app], env, volumes: { [tree]: '/etc/services.d:ro', [logs]: '/var/log' } });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).not.toContain('S6_LOGGING_SCRIPT');
    const stamped = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}/;
    expect(fs.existsSync(path.join(logs, 'svc/current')), r.output).toBe(true);
    const svc = fs.readFileSync(path.join(logs, 'svc/current'), 'utf8').trimEnd().split('\n');
    expect(svc.map((l) => l.replace(stamped, '')), svc.join('\n')).toEqual(['svc line 1', 'svc line 2', 'svc line 3']);
    for (const l of svc) expect(l).toMatch(stamped);
    // logutil-service gave the directory to nobody and ran s6-log as nobody.
    expect(fs.statSync(path.join(logs, 'svc')).uid).toBe(65534);
    expect(fs.statSync(path.join(logs, 'svc/current')).uid).toBe(65534);
    // rot: 300 lines of about 80 bytes through s2000: rotated, at most 3 archives kept (n3),
    // the last line in the newest file.
    const files = fs.readdirSync(path.join(logs, 'rot')).sort();
    const archives = files.filter((f) => f.startsWith('@'));
    expect(archives.length, files.join(' ')).toBeGreaterThanOrEqual(1);
    expect(archives.length, files.join(' ')).toBeLessThanOrEqual(3);
    for (const a of archives) expect(a).toMatch(/^@[0-9a-f]{24}\.s$/);
    const newest = [...archives, 'current'].map((f) => fs.readFileSync(path.join(logs, 'rot', f), 'utf8')).filter(Boolean).at(-1) ?? '';
    expect(newest.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`${stamped.source.slice(1)}rot line 300 `));
    expect(newest).not.toMatch(/^rot line/m);
  }, 3 * MINUTE);

  it('S6_KILL_GRACETIME=0: a service that ignores SIGTERM past S6_SERVICES_GRACETIME is SIGKILLed at once, before the final sync', async () => {
    const tree = writeTree({ 'stubborn/run': "trap '' TERM\necho stubborn trapped TERM\ntouch /tmp/trapped\nwhile :; do sleep 0.05; done" });
    const env = { ...NO_CONFIG, S6_KILL_GRACETIME: '0', S6_SERVICES_GRACETIME: '500' };
    // The app ends once the service ignores SIGTERM (/tmp/trapped, made after the trap).
    const app = 'i=0; while [ ! -e /tmp/trapped ]; do i=$((i + 1)); [ "$i" -gt 1500 ] && exit 1; sleep 0.02; done';
    const r = await runOnce({ entrypoint: ['/init'], command: ['sh', '-c', app], env, volumes: { [tree]: '/etc/services.d:ro' } });
    expect(r.exitCode, r.output).toBe(0);
    inOrder(r.output, [
      /^stubborn \| stubborn trapped TERM$/,
      /WARN service still running after LIFEBOAT_SERVICES_GRACETIME: left to the final kill, before the final sync service=stubborn grace_ms=500/,
      /WARN ending services left running before the final sync services=stubborn grace_ms=0/,
      /INFO init exiting code=0/,
    ]);
  }, 3 * MINUTE);
});
