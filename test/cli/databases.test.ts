/** lifeboat databases: path and replica names of every database in the config. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';

/** RAW keeps the output's final newline (execa strips it by default). */
const RAW = { stripFinalNewline: false };
import { tmpDir } from '../helpers/tmp.js';

describe('lifeboat databases', () => {
  it('prints path and comma-joined replica names', async () => {
    const dir = tmpDir();
    const cfg = path.join(dir, 'c.yml');
    fs.writeFileSync(
      cfg,
      `dbs:\n  - path: ${dir}/a.db\n    replicas:\n      - path: ${dir}/r1\n      - name: offsite\n        url: s3://bkt/a\n` +
        `  - path: ${dir}/bb.db\n    replicas:\n      - path: ${dir}/r2\n`,
    );
    const res = await lifeboat(['databases', '-config', cfg], RAW);
    expect(res.exitCode, String(res.all)).toBe(0);
    const w = `${dir}/bb.db`.length + 2;
    expect(res.stdout).toBe(`${'path'.padEnd(w)}replicas\n${`${dir}/a.db`.padEnd(w)}file,offsite\n${`${dir}/bb.db`.padEnd(w)}file\n`);
    const extra = await lifeboat(['databases', '-config', cfg, 'x']);
    expect(extra.exitCode).toBe(2);
  });
});
