#!/usr/bin/env node
/**
 * main: the `lifeboat` binary — a table of commands, each loaded on demand, and the exit
 * code contract:
 *
 * - 0: success, or help asked for (`-h`, `-help`, `--help`, `help`): usage on stdout.
 * - 1: the command failed: `lifeboat <cmd>: message` on stderr (one line).
 * - 2: usage or config error — no command, unknown command or flag, bad arguments
 *   (the message and the usage on stderr), or a bad config file (one line on stderr).
 * - anything else a command returns (e.g. `init` exiting with its app's code).
 */
// First: hold stop signals before anything slow loads (early.ts).
import './early.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fs, loadV8 } from '../builtin.js';
import { applyLitestreamEnv } from '../config/credentials.js';
import { ConfigError, UsageError, errorMessage } from '../errors.js';
import { exitProcess } from '../exit.js';
import { keepYoungGenerationSmall } from '../heap.js';
import { ArgsError, HelpRequested, usage } from './args.js';
import { exitOnUncaught } from './uncaught.js';

/** CommandModule is what a command file exports: `run` returns the exit code. */
export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

/** CommandEntry is one row of the command table. */
export interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

/** OPTIMIZER_OFF are node flags that already keep V8's optimizing compiler off (the image's `--lite-mode`). */
const OPTIMIZER_OFF = new Set(['--lite-mode', '--no-opt', '--jitless']);

/**
 * COMMANDS is the command table. Add a command with one entry here (alphabetical order);
 * its module parses its own flags with `parseArgs` and exports `run`.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  databases: { summary: 'list the databases in the config file', load: () => import('./databases.js') },
  generations: { summary: 'list the generations of a database or replica', load: () => import('./generations.js') },
  init: {
    summary: 'run as the container init (restore, replicate, services, the app)',
    // The init is a long-lived supervisor with no hot code: without V8's optimizing
    // compiler it keeps ~3.5 MB less resident (measured by bench/init.mjs), before it
    // loads anything. Its children (replicator, app) are separate processes, unaffected.
    // node:v8 costs ~3 MB itself, so only when node's command line has not done it.
    load: () => {
      if (!process.execArgv.some((flag) => OPTIMIZER_OFF.has(flag))) loadV8().setFlagsFromString('--no-opt');
      return import('./init.js');
    },
  },
  replicate: {
    summary: 'continuously replicate databases to their replicas',
    load: () => {
      keepYoungGenerationSmall();
      return import('./replicate.js');
    },
  },
  restore: {
    summary: 'restore a database from its replicas',
    load: () => {
      keepYoungGenerationSmall();
      return import('./restore.js');
    },
  },
  's6-svc': { summary: "control a service of lifeboat init (s6's s6-svc)", load: () => import('./s6-svc.js') },
  's6-svscanctl': { summary: "stop lifeboat init's container: -t (s6's s6-svscanctl)", load: () => import('./s6-svscanctl.js') },
  's6-svstat': { summary: "print the state of a service of lifeboat init (s6's s6-svstat)", load: () => import('./s6-svstat.js') },
  's6-svwait': { summary: "wait for services of lifeboat init to go up or down (s6's s6-svwait)", load: () => import('./s6-svwait.js') },
  snapshots: { summary: 'list the snapshots of a database or replica', load: () => import('./snapshots.js') },
  status: { summary: 'show replication status and health (exit 0 healthy, 1 unhealthy, 2 unreachable)', load: () => import('./status.js') },
  version: { summary: 'print the version', load: () => import('./version.js') },
  wal: { summary: 'list the WAL segments of a database or replica', load: () => import('./wal.js') },
};

/** EXIT_USAGE is the exit code for usage and config errors. */
export const EXIT_USAGE = 2;

/** EXIT_FAILURE is the exit code for a command that failed. */
export const EXIT_FAILURE = 1;

/** mainUsage lists the commands. */
export function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const rows = Object.entries(COMMANDS)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return (
    'lifeboat keeps a SQLite database safe in a container: replication and an init.\n\n' +
    'Usage:\n\n  lifeboat <command> [arguments]\n\nThe commands are:\n\n' +
    `${rows.join('\n')}\n\nRun "lifeboat <command> -h" for a command's flags.\n`
  );
}

/** main runs one command line (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  applyLitestreamEnv();
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    process.stderr.write(mainUsage());
    return EXIT_USAGE;
  }
  if (cmd === 'help' || cmd === '-h' || cmd === '-help' || cmd === '--help') {
    if (cmd === 'help' && rest[0] !== undefined && COMMANDS[rest[0]]) return main([rest[0], '-h']);
    process.stdout.write(mainUsage());
    return 0;
  }
  const name = cmd === '-version' || cmd === '--version' ? 'version' : cmd;
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const what = cmd.startsWith('-') ? `unknown flag: ${cmd}` : `unknown command: ${cmd}`;
    process.stderr.write(`lifeboat: ${what}\n\n${mainUsage()}`);
    return EXIT_USAGE;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (err) {
    return report(name, err);
  }
}

/** report prints a command's error and maps it to its exit code. */
function report(cmd: string, err: unknown): number {
  if (err instanceof HelpRequested) {
    process.stdout.write(err.spec ? usage(err.spec) : mainUsage());
    return 0;
  }
  const line = `lifeboat ${cmd}: ${withoutPrefix(cmd, oneLine(errorMessage(err)))}\n`;
  if (err instanceof UsageError) {
    process.stderr.write(line + (err instanceof ArgsError ? `\n${usage(err.spec)}` : ''));
    return EXIT_USAGE;
  }
  process.stderr.write(line);
  return err instanceof ConfigError ? EXIT_USAGE : EXIT_FAILURE;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** withoutPrefix drops a leading `<cmd>: ` from a message, so the line names the command once. */
function withoutPrefix(cmd: string, message: string): string {
  return message.startsWith(`${cmd}: `) ? message.slice(cmd.length + 2) : message;
}

/**
 * S6_NAMES are the commands the image also installs under their s6 names (`s6-svc` is a
 * symlink to this file): run under such a name, the name is the command.
 */
export const S6_NAMES: readonly string[] = ['s6-svc', 's6-svscanctl', 's6-svstat', 's6-svwait'];

/** commandLine is `argv` (without node and the script) with the command the script's name implies put first. */
export function commandLine(script: string | undefined, argv: string[]): string[] {
  const name = script === undefined ? '' : path.basename(script);
  return S6_NAMES.includes(name) ? [name, ...argv] : argv;
}

/** exit flushes stdout and stderr, then exits with `code` (src/exit.ts: not through Node's exit path). */
async function exit(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
  return exitProcess(code);
}

/** isEntryPoint reports whether this file is the script node was started with (through npm's bin symlink too). */
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

// Run only as the entry point, not when imported by tests. Should the event loop ever run
// dry before the command settles (a promise nobody resolves), Node exits with this code:
// never report success for a command that did not finish.
if (isEntryPoint()) {
  process.exitCode = EXIT_FAILURE;
  const argv = commandLine(process.argv[1], process.argv.slice(2));
  if (argv[0] !== 'init') exitOnUncaught(argv[0] ?? '');
  void main(argv).then(exit, (err: unknown) => {
    process.stderr.write(`lifeboat: ${errorMessage(err)}\n`);
    return exit(EXIT_FAILURE);
  });
}
