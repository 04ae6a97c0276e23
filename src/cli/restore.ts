/**
 * restore: `lifeboat restore [flags] DB_PATH|REPLICA_URL|REPLICA_DIR` — the thin CLI over the restore
 * library. Exit 0: restored, or nothing to do (`-if-db-not-exists` with an existing
 * output, `-if-replica-exists` with no backup); 1: the restore failed (partial output
 * removed); 2: bad flags or config; 128+N: interrupted by signal N (partial output removed).
 * On a terminal, a progress line on stdout; always a summary at the end.
 */
import os from 'node:os';
import { expandPath } from '../config/paths.js';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { hex8, parseHex8 } from '../replicator/pos.js';
import { DEFAULT_PARALLELISM, restore, type RestoreOptions, type RestoreResult } from '../replicator/restore/index.js';
import { summaryLine, TTYProgress } from '../replicator/restore/progress.js';
import { parseArgs, parseFd, type CommandSpec, type ParsedArgs } from './args.js';
import { CONFIG_FLAGS } from './common.js';
import { readParsedConfig } from './config-fd.js';
import { GENERATION_FLAG, REPLICA_FLAG, parseGenerationFlag, resolveTarget, type Target } from './targets.js';

/** spec declares `lifeboat restore`. */
export const spec: CommandSpec = {
  name: 'restore',
  summary:
    'Restore a database from its replicas (the latest backup, or a generation, index or time).\n' +
    'The output is built beside the target, verified, fsynced and renamed into place.',
  usage: 'restore [flags] DB_PATH\nrestore [flags] -o PATH REPLICA_URL|REPLICA_DIR',
  flags: [
    { name: 'o', type: 'string', placeholder: 'PATH', description: 'Output path (default: DB_PATH).' },
    ...CONFIG_FLAGS,
    REPLICA_FLAG,
    { ...GENERATION_FLAG, description: 'Restore this generation (default: the latest).' },
    { name: 'index', type: 'string', placeholder: 'HEX8', description: 'Restore up to this WAL index, inclusive, in hex as listings print it.' },
    { name: 'timestamp', type: 'string', placeholder: 'RFC3339', description: 'Restore the state as of this time (e.g. 2024-05-01T12:00:00Z).' },
    { name: 'parallelism', type: 'string', placeholder: 'N', description: `Download N objects (snapshot, WAL segments) at once (default ${DEFAULT_PARALLELISM}).` },
    { name: 'if-db-not-exists', type: 'boolean', description: 'Exit 0 without restoring if the output already exists.' },
    { name: 'if-replica-exists', type: 'boolean', description: 'Exit 0 if no backup exists (no generation, unknown generation, time outside).' },
    { name: 'integrity-check', type: 'boolean', description: 'Run PRAGMA integrity_check on the result before renaming it into place.' },
    { name: 'v', type: 'boolean', description: 'Verbose: log at debug level (the plan and each step), whatever logging: says.' },
    {
      name: 'config-fd',
      type: 'string',
      placeholder: 'N',
      description:
        'Read the config file as already parsed (JSON: its expanded text and YAML tree) from\nfile descriptor N; used only if that text is the file\'s (the init passes it so).',
    },
  ],
  minArgs: 1,
  maxArgs: 1,
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** parseTarget validates -index, -timestamp, -generation and -parallelism, echoing the bad value. */
export function parseTarget(flags: ParsedArgs['flags']): Pick<RestoreOptions, 'generation' | 'index' | 'timestamp' | 'parallelism'> {
  const str = (k: string): string | undefined => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  const out: Pick<RestoreOptions, 'generation' | 'index' | 'timestamp' | 'parallelism'> = { generation: parseGenerationFlag(flags.generation) };
  const index = str('index');
  if (index !== undefined) {
    out.index = parseHex8(index);
    if (out.index === undefined) throw new UsageError(`invalid -index ${JSON.stringify(index)}: want a hex WAL index of up to 8 digits (e.g. 0000001f)`);
  }
  const ts = str('timestamp');
  if (ts !== undefined) {
    const t = RFC3339.test(ts) ? Date.parse(ts) : NaN;
    if (Number.isNaN(t)) throw new UsageError(`invalid -timestamp ${JSON.stringify(ts)}: want RFC 3339 (e.g. 2024-05-01T12:00:00Z)`);
    out.timestamp = new Date(t);
  }
  if (out.index !== undefined && out.timestamp !== undefined) throw new UsageError('cannot combine -index and -timestamp');
  const par = str('parallelism');
  if (par !== undefined) {
    out.parallelism = /^\d+$/.test(par) ? Number(par) : NaN;
    if (!(out.parallelism! >= 1)) throw new UsageError(`invalid -parallelism ${JSON.stringify(par)}: want a positive integer`);
  }
  return out;
}

/** run restores and prints the outcome; see the exit codes above. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const opts = parseTarget(flags);
  const out = typeof flags.o === 'string' ? expandPath(flags.o) : undefined;
  // -v: debug lines (the config's logging: level is overridden too, common.ts).
  if (flags.v === true) log.configure({ level: 'debug' });
  const configFd = parseFd(flags['config-fd'], 'config-fd');
  const target = await resolveTarget(flags, args[0], configFd === undefined ? undefined : readParsedConfig(configFd));
  try {
    const outputPath = out ?? target.db?.path;
    if (!outputPath) throw new UsageError('-o PATH is required when restoring from a replica URL or directory');
    return await restoreWithSignals(target, {
      ...opts,
      replicas: target.replicas,
      outputPath,
      metaPath: target.db && outputPath === target.db.path ? target.db.metaPath : undefined,
      markContinuation: target.db !== undefined && outputPath === target.db.path,
      ifDbNotExists: flags['if-db-not-exists'] === true,
      ifReplicaExists: flags['if-replica-exists'] === true,
      integrityCheck: flags['integrity-check'] === true,
    });
  } finally {
    await target.close();
  }
}

/** restoreWithSignals runs the restore; SIGINT/SIGTERM abort it (the library removes what it built). */
async function restoreWithSignals(target: Target, opts: RestoreOptions): Promise<number> {
  const ac = new AbortController();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    signal = sig;
    ac.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tty = process.stdout.isTTY ? new TTYProgress(process.stdout) : undefined;
  // A restore that stops with nothing left to wait for must not end as a silent exit.
  const onStall = (): void => {
    process.stderr.write('lifeboat restore: the restore stalled (no I/O pending); nothing was left behind\n');
    process.exitCode = 1;
  };
  process.once('beforeExit', onStall);
  try {
    const res = await restore({ ...opts, signal: ac.signal, onProgress: tty && ((p) => tty.update(p)), logger: log });
    tty?.clear();
    report(res, target);
    return 0;
  } catch (err) {
    tty?.clear();
    if (signal === undefined) throw err;
    process.stderr.write(`lifeboat restore: interrupted by ${signal}; nothing was left behind\n`);
    return 128 + (os.constants.signals[signal] ?? 0);
  } finally {
    process.off('beforeExit', onStall);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** report prints the outcome on stdout: the summary, or why nothing was done. */
function report(res: RestoreResult, target: Target): void {
  if (res.status === 'output-exists') {
    process.stdout.write(`${res.message}, skipping restore (-if-db-not-exists)\n`);
    return;
  }
  if (res.status === 'no-backup') {
    process.stdout.write(`no matching backups found: ${res.message} (-if-replica-exists)\n`);
    return;
  }
  const p = res.plan;
  const loc = target.replicas.find((r) => r.name === p.replica)?.client.location ?? p.replica;
  process.stdout.write(
    `restored ${res.outputPath} from ${loc} (replica ${p.replica}) generation ${p.generation}` +
      ` snapshot ${hex8(p.snapshot.index)} up to index ${hex8(res.targetIndex)}\n${summaryLine(res.stats)}\n`,
  );
}
