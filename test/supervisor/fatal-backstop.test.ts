/**
 * The backstop after an internal error (src/supervisor/fatal.ts), end to end with the
 * built CLI: a stop of the services that legitimately takes longer than its share of the
 * budget must not get the final sync or cont-finish.d cut short by the backstop's SIGKILL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { descendants, indexOf, makeService, startInit, writeScript } from '../helpers/procs.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

// The knobs give the backstop, armed at the error, 500 + 500 + 2000 + 7000 + 200 + 5000
// (margin) = 15.2 s. The service ignores SIGTERM until its timeout-kill (9.7 s), then
// cont-finish.d takes 6 s: the shutdown outlasts that first budget but not the one the
// backstop gets again when the final sync starts (2000 + 7000 + 200 + 5000 = 14.2 s).
const KNOBS = {
  LIFEBOAT_APP_GRACETIME: '500',
  LIFEBOAT_SERVICES_GRACETIME: '500',
  LIFEBOAT_SYNC_GRACETIME: '2000',
  LIFEBOAT_CONT_FINISH_TIMEOUT: '7000',
  LIFEBOAT_KILL_GRACETIME: '200',
  LIFEBOAT_READY_TIMEOUT: '30000',
};
const TIMEOUT_KILL_MS = 9_700;
const FINISH_SECONDS = 6;

describe('the backstop after an internal error', () => {
  it('is re-armed when the final sync starts: a slow stop of the services does not get the sync and cont-finish.d killed', async () => {
    const dir = tmpDir('lifeboat-backstop-');
    const db = path.join(dir, 'app.db');
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(config, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - path: ${path.join(dir, 'replica')}\n`);
    const conn = openWAL(db);
    insertRows(conn, 5);
    // Ready (so the app, and the error, come) only once SIGTERM is ignored.
    const services = path.join(dir, 'services.d');
    makeService(services, 'slow', "trap '' TERM\necho ready >&3\nwhile :; do sleep 0.05; done", { 'notification-fd': '3', 'timeout-kill': String(TIMEOUT_KILL_MS) });
    const finish = path.join(dir, 'cont-finish.d');
    writeScript(path.join(finish, '10-slow'), `sleep ${FINISH_SECONDS}\necho finish done`);
    const env = { ...KNOBS, LIFEBOAT_CONT_FINISH_DIR: finish, LIFEBOAT_TEST_FAIL: 'uncaught' };
    const run = await startInit(['-config', config, '-services', services, 'trap-term.js', '--name', 'app'], { env });
    try {
      await waitUntil(() => run.child.exitCode !== null || run.child.signalCode !== null, { what: 'the init to exit', timeoutMs: 50_000, detail: run.output });
      expect((await run.done).code, run.output()).toBe(111);
      const lines = run.lines();
      expect(lines.filter((l) => l.includes('did not finish')), run.output()).toEqual([]);
      const at = [
        /ERROR internal error \(uncaught exception\): Error: LIFEBOAT_TEST_FAIL=uncaught/,
        /WARN service did not stop in time: killing/,
        /replicator stopped: final sync complete/,
        /^cont-finish.d\/10-slow \| finish done$/,
        /INFO init exiting code=111/,
      ].map((re) => indexOf(lines, re));
      expect(at.every((i) => i >= 0), run.output()).toBe(true);
      expect([...at].sort((x, y) => x - y), run.output()).toEqual(at);
    } finally {
      conn.close();
      for (const pid of [...descendants(run.pid), run.pid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
});
