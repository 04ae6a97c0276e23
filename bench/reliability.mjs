#!/usr/bin/env node
// bench/reliability: the long run of the reliability harness (test/reliability/).
//
//   npm run build && node bench/reliability.mjs [--kill-cycles 100] [--fault-cycles 50] [--outage-ms 30000]
//     [--writer-pause-ms 5]
//
// Runs the harness's vitest files with those counts (npm test runs them with quick ones):
// kill -9 of the replicator at random moments (file and s3rver replicas, 1- and up to
// 100-row transactions at full speed, a restore checked every 2 cycles and exactly at the
// end) and S3 fault cycles through a TCP fault proxy (reset mid-body, blackhole, 503
// SlowDown, latency, outage), memory judged over the run. --kill-cycles counts per case (four
// cases: two per backend). The kill cycles' writer pauses --writer-pause-ms after each
// transaction (the quick run in npm test: none), or at full speed the database would grow
// by gigabytes over the run and every cycle's new snapshot with it. Prints each cycle's
// progress line and each run's report as they come, and exits non-zero if any check
// failed. Results go to docs/reliability.md.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
for (const [k, v] of Object.entries(args)) {
  if (!['kill-cycles', 'fault-cycles', 'outage-ms', 'writer-pause-ms'].includes(k)) {
    console.error(`bench/reliability: unknown flag --${k}`);
    process.exit(2);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(v ?? '') || (k !== 'writer-pause-ms' && v === '0')) {
    console.error(`bench/reliability: --${k} needs a ${k === 'writer-pause-ms' ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
}
const env = {
  ...process.env,
  LIFEBOAT_HARNESS_KILL_CYCLES: args['kill-cycles'] ?? '100',
  LIFEBOAT_HARNESS_FAULT_CYCLES: args['fault-cycles'] ?? '50',
  LIFEBOAT_HARNESS_OUTAGE_MS: args['outage-ms'] ?? '30000',
  LIFEBOAT_HARNESS_WRITER_PAUSE_MS: args['writer-pause-ms'] ?? '5',
};
console.log(
  `bench/reliability: kill cycles ${env.LIFEBOAT_HARNESS_KILL_CYCLES} per case (writer pause ${env.LIFEBOAT_HARNESS_WRITER_PAUSE_MS} ms), fault cycles ${env.LIFEBOAT_HARNESS_FAULT_CYCLES}, outage ${env.LIFEBOAT_HARNESS_OUTAGE_MS} ms`,
);
const started = Date.now();
const run = spawn(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'suite', 'test/reliability/'], {
  cwd: ROOT,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});
const summary = [];
const follow = (stream) =>
  new Promise((resolve) => {
    const lines = readline.createInterface({ input: stream });
    lines.on('line', (raw) => {
      const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
      if (/^(kill cycle|s3 fault cycle)/.test(line)) console.log(line);
      else if (/Tests |Test Files|FAIL|Error/.test(line)) summary.push(line);
    });
    lines.on('close', resolve);
  });
const [status] = await Promise.all([new Promise((resolve) => run.on('exit', (code) => resolve(code))), follow(run.stdout), follow(run.stderr)]);
console.log(summary.join('\n'));
console.log(`bench/reliability: ${Math.round((Date.now() - started) / 1000)} s, exit ${status}`);
process.exit(status ?? 1);
