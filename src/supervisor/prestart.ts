/**
 * prestart: the replicator's Node, started ahead of time. Starting Node and loading the
 * replicator and the config takes ~120 ms; the init starts it first thing, with
 * `-start-fd 4`, so that happens while the init itself loads, reads services.d and
 * restores. The replicator service adopts it on its first start by writing the start
 * line. A boot that does not need it closes the pipe instead: it exits 0 without having
 * opened anything (`lifeboat replicate -start-fd`). Its output (config warnings) is read
 * only once the init has set up its own logging (`showOutput`), so that it is formatted as
 * the config says — until then it waits in the pipes. It also hands the init the config file
 * it parsed (`-config-fd 5`), so that the init needs no YAML parser of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { outputEnv, pipeOutput, runStdio } from './output.js';
import { trackSpawns } from './reaper.js';

/** START_FD is the descriptor on which a prestarted replicator waits for its start line. */
export const START_FD = 4;

/** CONFIG_FD is the descriptor on which a prestarted replicator writes its parsed config (`-config-fd`). */
export const CONFIG_FD = 5;

/** PrestartOptions: the service's command line, its notification fd (< START_FD) and output. */
export interface PrestartOptions {
  name: string;
  command: string[];
  notificationFd: number;
  prefix: boolean;
  cwd?: string;
}

/** Prestarted holds a replicator process waiting for its start line, until taken or discarded. */
export class Prestarted {
  private child: ChildProcess | undefined;
  private shown = false;
  /** configText is what the config pipe held at its end (read from the spawn on, so an early end is not missed). */
  private readonly configText: Promise<string | undefined>;

  private constructor(
    child: ChildProcess,
    private readonly name: string,
  ) {
    this.child = child;
    this.startPipe(child)?.on('error', () => {});
    this.configText = readToEnd(configPipe(child));
  }

  /** spawn starts `command -start-fd 4` as the service would be (own process group, same stdio, output prefixed). */
  static spawn(opts: PrestartOptions): Prestarted {
    // Started before the init's reaper: without tracking, the reaper would take its exit
    // from libuv (it reaps untracked zombies) and the service would never see it end.
    trackSpawns();
    const [file, ...args] = opts.command;
    const child = spawn(file, [...args, '-start-fd', String(START_FD), '-config-fd', String(CONFIG_FD)], {
      cwd: opts.cwd ?? process.cwd(),
      env: outputEnv(opts.prefix),
      detached: true,
      stdio: runStdio(opts.prefix, [opts.notificationFd, START_FD, CONFIG_FD]),
    });
    child.on('error', () => {});
    return new Prestarted(child, opts.name);
  }

  /**
   * parsedConfig resolves with what the process wrote on its config pipe (the config file,
   * parsed: config/load.ts ParsedText, as JSON text), or undefined when it wrote nothing
   * (no file, or one that does not parse), is gone, took longer than `timeoutMs`, or
   * `abort` fired first. The caller then parses the file itself.
   */
  async parsedConfig(timeoutMs: number, abort?: AbortSignal): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      onAbort = () => resolve(undefined);
      if (abort?.aborted) resolve(undefined);
      abort?.addEventListener('abort', onAbort, { once: true });
    });
    const text = await Promise.race([this.configText, late]);
    clearTimeout(timer);
    if (onAbort) abort?.removeEventListener('abort', onAbort);
    if (this.child) configPipe(this.child)?.destroy();
    return text;
  }

  /** showOutput starts copying the process's output to the init's, prefixed; once, and at the latest when taken or discarded. */
  showOutput(): void {
    if (this.shown || !this.child) return;
    this.shown = true;
    pipeOutput(this.child, this.name);
  }

  /** take starts the waiting process and hands it over, once; undefined when it is gone or was taken. */
  take(): ChildProcess | undefined {
    this.showOutput();
    const child = this.child;
    this.child = undefined;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
    this.startPipe(child)?.end('start\n');
    return child;
  }

  /** discard closes the start pipe of a process not taken: it exits 0 without starting. */
  discard(): void {
    this.showOutput();
    const child = this.child;
    this.child = undefined;
    if (child) this.startPipe(child)?.end();
  }

  private startPipe(child: ChildProcess): Writable | undefined {
    return (child.stdio[START_FD] ?? undefined) as Writable | undefined;
  }
}

/** configPipe is the read end of a prestarted process's config descriptor. */
function configPipe(child: ChildProcess): Readable | undefined {
  return ((child.stdio as unknown[])[CONFIG_FD] ?? undefined) as Readable | undefined;
}

/** readToEnd collects a pipe until its end: the text, or undefined when empty, closed without an end, or failed. */
function readToEnd(pipe: Readable | undefined): Promise<string | undefined> {
  if (!pipe) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    pipe.on('data', (chunk: Buffer) => chunks.push(chunk));
    pipe.once('end', () => {
      ended = true;
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text === '' ? undefined : text);
    });
    pipe.once('close', () => {
      if (!ended) resolve(undefined);
    });
    pipe.on('error', () => resolve(undefined));
  });
}
