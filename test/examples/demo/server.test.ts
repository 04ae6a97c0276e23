/**
 * examples/demo/server.mjs — the demo app on its own: WAL mode and a busy timeout on its
 * database, the notes API, /healthz, bad requests, and exit 0 on SIGTERM.
 */
import { execa } from 'execa';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { freePort, getNotes, postNote } from '../../container/demo-client.js';

const SERVER = path.join(ROOT, 'examples/demo/server.mjs');

async function startServer(db: string) {
  const port = await freePort();
  const child = execa(process.execPath, [SERVER], {
    env: { DB_PATH: db, PORT: String(port), HOST: '127.0.0.1' },
    all: true,
    reject: false,
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => child.exitCode !== null || (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, {
      what: 'the demo server to answer /healthz',
      intervalMs: 50,
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; output: ${(await child).all}`);
  }
  if (child.exitCode !== null) throw new Error(`demo server exited: ${(await child).all}`);
  return { child, base };
}

describe('examples/demo/server.mjs', () => {
  it('stores notes in a WAL-mode database, answers /healthz, rejects bad requests, exits 0 on SIGTERM', async () => {
    const db = path.join(tmpDir(), 'sub', 'app.db');
    const { child, base } = await startServer(db);
    const a = await postNote(base, 'plain text note');
    const res = await fetch(`${base}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"json note"}' });
    expect(res.status).toBe(201);
    const b = await res.json();
    expect(await getNotes(base)).toEqual([a, b]);
    expect(b).toMatchObject({ id: 2, text: 'json note' });
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok 2 notes\n');
    expect((await fetch(`${base}/notes`, { method: 'POST', body: '   ' })).status).toBe(400);
    expect((await fetch(`${base}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).status).toBe(400);
    expect((await fetch(`${base}/notes`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    const check = new Database(db, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(check.prepare('SELECT text FROM notes ORDER BY id').pluck().all()).toEqual(['plain text note', 'json note']);
    check.close();
  });
});
