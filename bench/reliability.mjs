#!/usr/bin/env node
// bench/reliability: the long run of the reliability harness (test/reliability/).
//
//   npm run build && node bench/reliability.mjs [--kill-cycles 200] [--fault-cycles 50] [--outage-ms 30000]
//
// Runs the harness's vitest files with those counts (npm test runs them with quick ones):
// kill -9 of the replicator at random moments (file and s3rver replicas, 1- and up to
// 100-row transactions at full speed, a restore checked every 2 cycles and exactly at the
// end) and S3 fault cycles through a TCP fault proxy (reset mid-body, blackhole, 503
// SlowDown, latency, outage), memory judged over the run. Prints each run's report line and
// exits non-zero if any check failed. Results go to docs/reliability.md.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
for (const [k, v] of Object.entries(args)) {
  if (!['kill-cycles', 'fault-cycles', 'outage-ms'].includes(k)) {
    console.error(`bench/reliability: unknown flag --${k}`);
    process.exit(2);
  }
  if (!/^[1-9][0-9]*$/.test(v ?? '')) {
    console.error(`bench/reliability: --${k} needs a positive integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
}
const env = {
  ...process.env,
  LIFEBOAT_HARNESS_KILL_CYCLES: args['kill-cycles'] ?? '200',
  LIFEBOAT_HARNESS_FAULT_CYCLES: args['fault-cycles'] ?? '50',
  LIFEBOAT_HARNESS_OUTAGE_MS: args['outage-ms'] ?? '30000',
};
console.log(`bench/reliability: kill cycles ${env.LIFEBOAT_HARNESS_KILL_CYCLES}, fault cycles ${env.LIFEBOAT_HARNESS_FAULT_CYCLES}, outage ${env.LIFEBOAT_HARNESS_OUTAGE_MS} ms`);
const started = Date.now();
const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'suite', 'test/reliability/'], {
  cwd: ROOT,
  env,
  encoding: 'utf8',
  maxBuffer: 1 << 28,
});
const out = `${run.stdout}${run.stderr}`;
for (const line of out.split('\n')) if (/^(kill cycles|s3 fault cycles)/.test(line.replace(/\x1b\[[0-9;]*m/g, ''))) console.log(line.replace(/\x1b\[[0-9;]*m/g, ''));
const summary = out.split('\n').filter((l) => /Tests |Test Files|FAIL/.test(l));
console.log(summary.join('\n'));
console.log(`bench/reliability: ${Math.round((Date.now() - started) / 1000)} s, exit ${run.status}`);
process.exit(run.status ?? 1);
