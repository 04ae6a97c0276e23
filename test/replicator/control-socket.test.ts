import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log.js';
import { askReplicator, controlSocketPath, listenControlSocket } from '../../src/replicator/control-socket.js';
import { jsonReply } from '../../src/replicator/http-server.js';
import { tmpDir } from '../helpers/tmp.js';

const routes = { '/status': () => jsonReply({ ok: true }) };

describe('listenControlSocket', () => {
  it('makes the socket 0600 under a permissive umask, leaves no private directory, and answers', async () => {
    const dir = tmpDir('lb-cs-');
    const db = path.join(dir, 'app.db');
    const lines: string[] = [];
    const old = process.umask(0);
    let server;
    try {
      server = await listenControlSocket(db, routes, new Logger({ timestamps: false, write: (l) => lines.push(l) }));
    } finally {
      process.umask(old);
    }
    expect(server, lines.join('')).toBeDefined();
    try {
      const st = fs.lstatSync(controlSocketPath(db));
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(dir)).toEqual(['.app.db-lifeboat.sock']);
      expect(await askReplicator(db, '/status')).toMatchObject({ status: 200 });
    } finally {
      await server!.close();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a symlink at the path stays as it is and nothing is bound', async () => {
    const dir = tmpDir('lb-cs-');
    const db = path.join(dir, 'app.db');
    const target = path.join(dir, 'elsewhere');
    fs.symlinkSync(target, controlSocketPath(db));
    const lines: string[] = [];
    const server = await listenControlSocket(db, routes, new Logger({ timestamps: false, write: (l) => lines.push(l) }));
    expect(server).toBeUndefined();
    expect(lines.join('')).toContain('a symlink is in the way');
    expect(fs.readlinkSync(controlSocketPath(db))).toBe(target);
    expect(fs.readdirSync(dir).sort()).toEqual(['.app.db-lifeboat.sock']);
  });

  it('removes a private directory left by a run killed mid-bind, and nothing of other names', async () => {
    const dir = tmpDir('lb-cs-');
    const db = path.join(dir, 'app.db');
    fs.mkdirSync(path.join(dir, '.app.db-lbAb12Cd'));
    fs.writeFileSync(path.join(dir, '.app.db-lbAb12Cd', 's'), '');
    fs.mkdirSync(path.join(dir, '.other.db-lbXy34Zw'));
    fs.writeFileSync(path.join(dir, '.app.db-lbFILE00'), 'a file of the same shape');
    const server = await listenControlSocket(db, routes, new Logger({ write: () => {} }));
    expect(server).toBeDefined();
    try {
      expect(fs.readdirSync(dir).sort()).toEqual(['.app.db-lbFILE00', '.app.db-lifeboat.sock', '.other.db-lbXy34Zw']);
    } finally {
      await server!.close();
    }
  });
});
