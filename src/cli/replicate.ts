/**
 * replicate: `lifeboat replicate [flags]` (every database of the config) or
 * `lifeboat replicate [flags] DB_PATH REPLICA_URL [REPLICA_URL…]`. Runs until SIGTERM or
 * SIGINT, then performs a final sync of every database to every replica and exits 0 only
 * if all of them completed (1 otherwise). A second signal exits at once.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Config } from '../config/types.js';
import { ConfigError, UsageError } from '../errors.js';
import { log } from '../log.js';
import { Replicator } from '../replicator/replicator.js';
import { splitShellWords } from '../supervisor/shell-words.js';
import { configForDatabase } from '../replicator/url.js';
import { type CommandSpec, parseArgs } from './args.js';
import { CONFIG_FLAGS, loadCommandConfig, setupLogging } from './common.js';

/** spec declares `lifeboat replicate`. */
export const spec: CommandSpec = {
  name: 'replicate',
  summary: 'Continuously replicate SQLite databases to their replicas.',
  usage: 'replicate [flags]\nreplicate [flags] DB_PATH REPLICA_URL [REPLICA_URL...]',
  flags: [
    ...CONFIG_FLAGS,
    {
      name: 'exec',
      type: 'string',
      placeholder: 'CMD',
      description:
        'Run CMD (split with shell-word rules) once replication is ready; exit with its\nexit code after the final sync. Overrides exec: in the config.',
    },
    {
      name: 'start-fd',
      type: 'string',
      placeholder: 'N',
      description:
        'Load the config, then wait for a line on file descriptor N before starting;\nend of file there: exit 0 without starting (the init starts Node early this way).',
    },
    {
      name: 'notify-fd',
      type: 'string',
      placeholder: 'N',
      description: 'Write a newline on file descriptor N once ready (s6 readiness protocol).',
    },
  ],
};

/** run replicates until signalled; the exit code says whether the final sync completed. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const notifyFd = parseFd(flags['notify-fd'], 'notify-fd');
  const startFd = parseFd(flags['start-fd'], 'start-fd');
  const loaded = commandConfig(flags, args);
  if (startFd !== undefined) {
    // Errors wait for the start line: a replicator that is never started says nothing.
    loaded.catch(() => {});
    if (!(await waitForStart(startFd))) return 0;
  }
  const config = await loaded;
  if (config.dbs.length === 0) throw new ConfigError('dbs', 'no databases to replicate');
  const exec = typeof flags.exec === 'string' ? flags.exec : config.exec;
  const app = exec === undefined ? undefined : parseExec(exec);
  if (app !== undefined && app.length === 0) throw new UsageError(`empty -exec command ${JSON.stringify(exec)}`);
  const replicator = new Replicator(config);
  if (config.addr) await serveMetrics(config.addr, replicator);
  const done = app ? undefined : waitForSignal();
  replicator.start();
  for (const r of replicator.runners) {
    log.info('replicating', { db: r.db.path, replicas: r.replicas.map((x) => `${x.name}=${x.client.location}`).join(',') });
  }
  if (notifyFd !== undefined) notifyReady(notifyFd);
  if (app) return (await import('../supervisor/exec.js')).runWithApp(replicator, app);
  return stopOnSignal(replicator, done!);
}

/** serveMetrics starts the metrics endpoint on `addr` (before replication: a bad address fails first). */
async function serveMetrics(addr: string, replicator: Replicator): Promise<void> {
  const [{ startMetricsServer }, { renderMetrics }] = await Promise.all([import('../replicator/metrics-server.js'), import('../replicator/metrics.js')]);
  const server = await startMetricsServer(addr, () => renderMetrics(replicator.runners));
  log.info('metrics listening', { addr: server.address, path: '/metrics' });
}

/** stopOnSignal waits for SIGTERM/SIGINT, then runs the final sync; a second signal exits at once. */
async function stopOnSignal(replicator: Replicator, done: Promise<NodeJS.Signals>): Promise<number> {
  const signal = await done;
  log.info('signal received, final sync', { signal });
  return (await replicator.stop(true)) ? 0 : 1;
}

async function commandConfig(flags: Record<string, string | boolean | undefined>, args: string[]): Promise<Config> {
  if (args.length === 0) return loadCommandConfig(flags);
  if (args.length < 2) throw new UsageError('need DB_PATH and at least one REPLICA_URL');
  if (flags.config !== undefined) throw new UsageError('-config cannot be combined with DB_PATH REPLICA_URL');
  const config = configForDatabase(args[0], args.slice(1));
  setupLogging(config);
  return config;
}

function parseExec(exec: string): string[] {
  try {
    return splitShellWords(exec);
  } catch (err) {
    throw new UsageError(`invalid -exec: ${(err as Error).message}`);
  }
}

function parseFd(v: string | boolean | undefined, flag: string): number | undefined {
  if (v === undefined || v === false) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 3) throw new UsageError(`invalid -${flag} ${JSON.stringify(v)}: want a descriptor number >= 3`);
  return n;
}

/** waitForStart reads descriptor `fd` until a newline (true: start) or its end (false: do not start), then closes it. */
function waitForStart(fd: number): Promise<boolean> {
  return new Promise((resolve) => {
    const pipe = new net.Socket({ fd, readable: true, writable: false });
    const done = (start: boolean): void => {
      pipe.destroy();
      resolve(start);
    };
    pipe.on('data', (chunk: Buffer) => {
      if (chunk.includes(0x0a)) done(true);
    });
    pipe.once('end', () => done(false));
    pipe.once('error', () => done(false));
  });
}

/** notifyReady writes the readiness newline on `fd` and closes it (s6 notification-fd). */
function notifyReady(fd: number): void {
  try {
    fs.writeSync(fd, '\n');
    fs.closeSync(fd);
  } catch (err) {
    log.warn('cannot write readiness notification', { fd, error: (err as Error).message });
  }
}

/**
 * waitForSignal resolves with the first SIGTERM or SIGINT; a second one exits at once
 * (code 1). One handler stays installed throughout, so no second signal ever meets the
 * default action (death by the signal) in between.
 */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const on = (sig: NodeJS.Signals) => {
      if (received) {
        log.error('second signal: exiting without waiting for the final sync', { signal: sig });
        process.exit(1);
      }
      received = true;
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
