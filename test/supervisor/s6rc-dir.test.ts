import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readS6rcTree } from '../../src/supervisor/s6rc-dir.js';
import { tmpDir } from '../helpers/tmp.js';

/** write puts `files` (relative path → content) under `base/s6-rc.d`. */
function write(files: Record<string, string>): string {
  const base = tmpDir('lifeboat-s6rc-');
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(base, 's6-rc.d', rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, { mode: 0o755 });
  }
  return base;
}

describe('readS6rcTree', () => {
  it('is undefined without s6-rc.d', () => {
    expect(readS6rcTree(tmpDir(), undefined)).toBeUndefined();
  });

  it('reads types, dependencies.d, the older dependencies and contents files, and the timeouts', () => {
    const base = write({
      'user/type': 'bundle\n',
      'user/contents': 'app\n# a comment\n\n',
      'app/type': 'longrun\n',
      'app/run': '#!/bin/sh\nexec true\n',
      'app/dependencies': 'setup\n',
      'app/timeout-up': '2000\n',
      'app/timeout-kill': '0\n',
      'setup/type': 'oneshot\n',
      'setup/up': '/etc/s6-overlay/scripts/setup "with arg"\n',
      'setup/down': 'rm -rf /tmp/x\n',
      'setup/timeout-down': '300\n',
      'setup/dependencies.d/base': '',
    });
    const tree = readS6rcTree(base, undefined)!;
    expect(tree.plan.order).toEqual(['setup', 'app']);
    const app = tree.atoms.get('app');
    expect(app).toMatchObject({ kind: 'longrun', timeoutUp: 2000, timeoutDown: 0, def: { name: 'app', down: false, timeoutKill: undefined } });
    expect(tree.atoms.get('setup')).toMatchObject({
      kind: 'oneshot',
      up: { file: '/etc/s6-overlay/scripts/setup', argv: ['/etc/s6-overlay/scripts/setup', 'with arg'] },
      down: { argv: ['rm', '-rf', '/tmp/x'] },
      timeoutDown: 300,
    });
  });

  it('runs up through execlineb -P when there is one', () => {
    const base = write({ 'user/type': 'bundle', 'user/contents.d/s': '', 's/type': 'oneshot', 's/up': 'foreground { echo hi } echo bye\n' });
    const up = path.join(base, 's6-rc.d', 's', 'up');
    expect(readS6rcTree(base, '/usr/bin/execlineb')!.atoms.get('s')).toMatchObject({ up: { file: up, argv: ['/usr/bin/execlineb', '-P', up] } });
    expect(() => readS6rcTree(base, undefined)).toThrow(`${up}: line 1: the execline block "{" needs execlineb`);
  });

  it('names a bad file and its value', () => {
    expect(() => readS6rcTree(write({ 'user/type': 'bundel\n' }), undefined)).toThrow(/s6-rc.d\/user\/type: not longrun, oneshot or bundle: "bundel"$/);
    expect(() => readS6rcTree(write({ 'user/contents': 'x\n' }), undefined)).toThrow(/s6-rc.d\/user\/type: missing/);
    expect(() => readS6rcTree(write({ 'user/type': 'bundle', 'user/contents.d/o': '', 'o/type': 'oneshot' }), undefined)).toThrow(/s6-rc.d\/o\/up: missing/);
    const tally = write({ 'user/type': 'bundle', 'user/contents.d/l': '', 'l/type': 'longrun', 'l/run': '#!/bin/sh\n', 'l/max-death-tally': '5000' });
    expect(() => readS6rcTree(tally, undefined)).toThrow(/l\/max-death-tally: not a whole number from 0 to 4096: "5000"/);
  });
});
