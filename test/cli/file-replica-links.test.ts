import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { startReplicate } from '../helpers/replicate.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

describe('a file replica whose generations/ folder is a symbolic link', () => {
  it('restore refuses it with one clear error and exit 1; replicate refuses to write through it', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const replica = path.join(dir, 'r');
    const app = openWAL(db);
    try {
      let rep = startReplicate([db, `file://${replica}`]);
      await rep.waitFor(/replicating/);
      insertRows(app, 10);
      await waitUntil(() => fs.existsSync(path.join(replica, 'generations')), { what: 'the replica' });
      expect((await rep.stop()).exitCode).toBe(0);

      const elsewhere = path.join(dir, 'elsewhere');
      fs.renameSync(path.join(replica, 'generations'), elsewhere);
      fs.symlinkSync(elsewhere, path.join(replica, 'generations'));
      const res = await lifeboat(['restore', '-o', path.join(dir, 'out.db'), `file://${replica}`]);
      expect(res.exitCode, String(res.all)).toBe(1);
      expect(String(res.all)).toContain(`${path.join(replica, 'generations')} is a symbolic link (to ${elsewhere})`);
      expect(fs.existsSync(path.join(dir, 'out.db'))).toBe(false);

      const before = fs.readdirSync(elsewhere, { recursive: true }).sort();
      rep = startReplicate([db, `file://${replica}`]);
      await rep.waitFor(/replicating/);
      insertRows(app, 10);
      await rep.waitFor(/is a symbolic link/);
      await rep.stop();
      expect(fs.readdirSync(elsewhere, { recursive: true }).sort()).toEqual(before);
    } finally {
      app.close();
    }
  });
});
