/**
 * replicate: `lifeboat replicate [flags]` (every database of the config) or
 * `lifeboat replicate [flags] DB_PATH REPLICA_URL [REPLICA_URL…]`. Runs until SIGTERM or
 * SIGINT (`-once`: not at all), then performs a final sync of every database to every
 * replica, bounded by the shutdown sync timeout, and exits 0 only if all of them completed
 * (1 otherwise). A second signal exits at once. A signal that arrives while the command
 * still loads is held (cli/early.ts) and leads to the final sync all the same.
 */
import { fs } from '../builtin.js';
import net from 'node:net';
import path from 'node:path';
import { DEFAULT_SHUTDOWN_SYNC_TIMEOUT } from '../config/defaults.js';
import { parseDuration } from '../config/duration.js';
import { expandPath } from '../config/paths.js';
import type { ParsedText } from '../config/load.js';
import type { Config } from '../config/types.js';
import { releaseHeldSignals } from '../process/held-signals.js';
import { ConfigError, UsageError, errorMessage } from '../errors.js';
import { exitProcess } from '../exit.js';
import { log } from '../log.js';
import { parseListenAddr } from '../config/addr.js';
import type { Endpoints } from '../replicator/endpoints.js';
import { Replicator } from '../replicator/replicator.js';
import { replicatedByInit } from '../supervisor/replicated-by-init.js';
import { splitShellWords } from '../supervisor/shell-words.js';
import { configForDatabase } from '../config/url.js';
import { type CommandSpec, parseArgs, parseFd } from './args.js';
import { CONFIG_FLAGS, loadCommandConfig, setupLogging } from './common.js';
import { ParsedConfigOut } from './config-fd.js';

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
      name: 'once',
      type: 'boolean',
      description: 'Sync every database to its replicas once (what the database holds beyond\nthe replica), then exit: 0 when complete, 1 when not.',
    },
    {
      name: 'shutdown-sync-timeout',
      type: 'string',
      placeholder: 'DURATION',
      description:
        'Bound the final sync (retrying failed uploads) to DURATION, then exit 1 if it\ndid not complete (default: shutdown-sync-timeout in the config, else 3s).',
    },
    {
      name: 'addr',
      type: 'string',
      placeholder: 'ADDR',
      description: 'Serve /metrics, /healthz and /status on ADDR (HOST:PORT or :PORT) instead of\naddr: in the config; -addr= (empty) serves nothing there (the init does so).',
    },
    {
      name: 'start-fd',
      type: 'string',
      placeholder: 'N',
      description:
        'Load the config, then wait for a line on file descriptor N before starting;\nend of file there: exit 0 without starting (the init starts Node early this way).',
    },
    {
      name: 'config-fd',
      type: 'string',
      placeholder: 'N',
      description:
        'Write the config file as parsed (JSON: its expanded text and YAML tree) on file\ndescriptor N, then close it; closed empty when there is none or it does not\nparse (the init reads its config so, with no YAML parser of its own).',
    },
    {
      name: 'trace',
      type: 'string',
      placeholder: 'PATH',
      description: 'Write every log line, debug level included, to PATH (created or truncated),\neach stamped with its time: Litestream\'s verbose trace.',
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
  // The stop signals first: any held since Node started are taken over here.
  const stop = new StopSignal();
  const { flags, args } = parseArgs(spec, argv);
  const notifyFd = parseFd(flags['notify-fd'], 'notify-fd');
  const startFd = parseFd(flags['start-fd'], 'start-fd');
  const configFd = parseFd(flags['config-fd'], 'config-fd');
  const once = flags.once === true;
  const parsedOut = configFd === undefined ? undefined : new ParsedConfigOut(configFd);
  const loaded = commandConfig(flags, args, parsedOut?.write);
  if (parsedOut) void loaded.finally(parsedOut.close).catch(() => {});
  if (startFd !== undefined) {
    // Errors wait for the start line: a replicator that is never started says nothing.
    loaded.catch(() => {});
    if (!(await waitForStart(startFd))) return 0;
  }
  const loadedConfig = await loaded;
  if (typeof flags.trace === 'string') traceTo(flags.trace);
  const config = leaveToInit(loadedConfig);
  const timeoutMs = shutdownTimeout(flags['shutdown-sync-timeout'], config);
  const execLine = typeof flags.exec === 'string' ? flags.exec : config.exec;
  const app = execLine === undefined ? undefined : parseExec(execLine);
  if (app !== undefined && app.length === 0) throw new UsageError(`empty -exec command ${JSON.stringify(execLine)}`);
  if (app !== undefined && once) throw new UsageError('-once cannot be combined with -exec');
  if (config.dbs.length === 0 && !app) return idleUnderInit(stop, once, notifyFd);
  const addr = listenAddr(flags.addr, config);
  const replicator = new Replicator(config);
  const endpoints = once ? undefined : await startEndpoints(replicator, config, addr);
  replicator.start();
  for (const r of replicator.runners) {
    log.info('replicating', { db: r.db.path, replicas: r.replicas.map((x) => `${x.name}=${x.client.location}`).join(',') });
  }
  await endpoints?.startLocal();
  if (notifyFd !== undefined) notifyReady(notifyFd);
  if (once) return finalSync(replicator, timeoutMs, 'once');
  const exec = app && (await import('../supervisor/exec.js'));
  if (exec && stop.received === undefined) {
    // From here the app's handlers take the signals (installed before runWithApp's first await).
    stop.off();
    try {
      return await exec.runWithApp(replicator, app, timeoutMs);
    } finally {
      await endpoints?.close();
    }
  }
  log.info('signal received, final sync', { signal: await stop.signal, timeout_ms: timeoutMs });
  endpoints?.stopHeartbeat();
  const code = await finalSync(replicator, timeoutMs, 'signal');
  await endpoints?.close();
  return code;
}

/**
 * leaveToInit drops the databases `lifeboat init` replicates already (this command runs as
 * one of its services, as in an s6-overlay tree with a `litestream replicate` service): one
 * replicator per database. Throws when the config has no databases at all.
 */
function leaveToInit(config: Config): Config {
  if (config.dbs.length === 0) throw new ConfigError('dbs', 'no databases to replicate');
  const byInit = replicatedByInit();
  const dbs = config.dbs.filter((db) => {
    if (!byInit.has(path.resolve(db.path))) return true;
    log.info("lifeboat init replicates this database already: left to the init's replicator", { db: db.path });
    return false;
  });
  return { ...config, dbs };
}

/**
 * idleUnderInit is `replicate` when the init replicates every database: ready at once, then
 * it waits for the stop signal and exits 0 (-once: exits 0 at once), so the service it runs
 * in neither fails nor restarts. The init's own final sync runs last, as always.
 */
async function idleUnderInit(stop: StopSignal, once: boolean, notifyFd: number | undefined): Promise<number> {
  if (notifyFd !== undefined) notifyReady(notifyFd);
  if (once) return 0;
  // Signal handlers do not keep Node running: a timer does, until the signal.
  const alive = setInterval(() => {}, 1 << 30);
  const signal = await stop.signal;
  clearInterval(alive);
  log.info('signal received: nothing to sync here (the init syncs last)', { signal });
  return 0;
}

/** finalSync stops the replicator with its final sync, bounded by `timeoutMs`; 0 when complete, 1 when not. */
async function finalSync(replicator: Replicator, timeoutMs: number, why: 'once' | 'signal'): Promise<number> {
  const t0 = Date.now();
  const ok = await replicator.stop(true, timeoutMs);
  const ms = Date.now() - t0;
  if (ok) {
    log.info(why === 'once' ? 'sync complete' : 'final sync complete', { ms });
    return 0;
  }
  // One line that says what the replicas miss (the errors of each attempt came before it).
  const what = replicator.unsynced.length > 0 ? replicator.unsynced.join('; ') : 'see the errors above';
  log.error(`final sync incomplete after ${ms} ms (shutdown-sync-timeout ${timeoutMs} ms): not synced: ${what}`);
  return 1;
}

/** shutdownTimeout is -shutdown-sync-timeout, else the config's, else the default (ms). */
function shutdownTimeout(flag: string | boolean | undefined, config: Config): number {
  if (typeof flag !== 'string') return config.shutdownSyncTimeout ?? DEFAULT_SHUTDOWN_SYNC_TIMEOUT;
  let ms: number;
  try {
    ms = parseDuration(flag);
  } catch {
    throw new UsageError(`invalid -shutdown-sync-timeout ${JSON.stringify(flag)}: want a duration such as 3s or 2500ms`);
  }
  if (ms < 0) throw new UsageError(`invalid -shutdown-sync-timeout ${JSON.stringify(flag)}: must not be negative`);
  return ms;
}

/** listenAddr is -addr (empty: none), else the config's addr; checked like the config's. */
function listenAddr(flag: string | boolean | undefined, config: Config): string | undefined {
  if (typeof flag !== 'string') return config.addr;
  if (flag === '') return undefined;
  try {
    parseListenAddr(flag);
  } catch (err) {
    throw new UsageError(`invalid -addr: ${(err as Error).message}`);
  }
  return flag;
}

/**
 * startEndpoints serves `addr` when given (a busy address is one warning: replication goes
 * on without it); the control sockets and the heartbeat follow once replicating.
 */
async function startEndpoints(replicator: Replicator, config: Config, addr: string | undefined): Promise<Endpoints> {
  const { Endpoints } = await import('../replicator/endpoints.js');
  const endpoints = new Endpoints(replicator, config.health, log);
  const bound = addr ? await endpoints.listen(addr) : undefined;
  if (bound) log.info('metrics listening', { addr: bound, paths: '/,/healthz,/metrics,/status' });
  return endpoints;
}

async function commandConfig(
  flags: Record<string, string | boolean | undefined>,
  args: string[],
  onParsed?: (parsed: ParsedText) => void,
): Promise<Config> {
  if (args.length === 0) return loadCommandConfig(flags, { healthEnv: true, onParsed });
  if (args.length < 2) throw new UsageError('need DB_PATH and at least one REPLICA_URL');
  if (flags.config !== undefined) throw new UsageError('-config cannot be combined with DB_PATH REPLICA_URL');
  const config = configForDatabase(args[0], args.slice(1));
  setupLogging(config);
  return config;
}

/** traceTo sends every log line to `file` as well (before the replicator's loggers are made: they inherit it). */
function traceTo(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(expandPath(file), 'w');
  } catch (err) {
    throw new Error(`open -trace file: ${errorMessage(err)}`);
  }
  log.configure({
    trace: (line) => {
      try {
        fs.writeSync(fd, line);
      } catch {
        // A trace that cannot be written (disk full) must not stop replication.
      }
    },
  });
}

function parseExec(exec: string): string[] {
  try {
    return splitShellWords(exec);
  } catch (err) {
    throw new UsageError(`invalid -exec: ${(err as Error).message}`);
  }
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
 * StopSignal catches the first SIGTERM or SIGINT (or one held since start-up); a second one
 * exits at once (code 1). Its handler stays installed until `off`, so no second signal
 * meets the default action (death by the signal) in between.
 */
class StopSignal {
  /** received is the first stop signal, once one came. */
  received: NodeJS.Signals | undefined;
  /** signal resolves with the first stop signal. */
  readonly signal: Promise<NodeJS.Signals>;
  private resolve!: (sig: NodeJS.Signals) => void;
  private readonly on = (sig: NodeJS.Signals): void => {
    if (this.received) {
      log.error('second signal: exiting without waiting for the final sync', { signal: sig });
      exitProcess(1);
    }
    this.received = sig;
    this.resolve(sig);
  };
  private readonly onTerm = (): void => this.on('SIGTERM');
  private readonly onInt = (): void => this.on('SIGINT');

  constructor() {
    this.signal = new Promise((resolve) => (this.resolve = resolve));
    process.on('SIGTERM', this.onTerm);
    process.on('SIGINT', this.onInt);
    for (const sig of releaseHeldSignals()) this.on(sig);
  }

  /** off removes the handlers (the -exec mode installs its own). */
  off(): void {
    process.off('SIGTERM', this.onTerm);
    process.off('SIGINT', this.onInt);
  }
}
