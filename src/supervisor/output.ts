/**
 * output: the output of services (not the app's) is piped and each line prefixed
 * `name | `, stdout to stdout and stderr to stderr; a last partial line is flushed, with a
 * newline, when the stream ends. Lines take the format of the init's own log: a leading
 * timestamp in text (`logging.timestamps`), one JSON object each with `logging.type: json`.
 * `LIFEBOAT_LOG_PREFIX=0` gives children the init's own stdout and stderr instead.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LOG_TIMESTAMPS_ENV } from '../config/defaults.js';
import { type LineFormat, log, timestamp } from '../log.js';
import { recentLines } from '../recent-lines.js';

/** MAX_LINE is where an endless line is cut and written, so memory stays bounded. */
export const MAX_LINE = 64 * 1024;

const NL = 0x0a;

/** ServiceStream names the stream a line of a service's output came from. */
export type ServiceStream = 'stdout' | 'stderr';

/**
 * outputEnv is the environment of a child whose output is piped (`prefix`): with
 * LIFEBOAT_LOG_TIMESTAMPS=0, as the init stamps each of its lines, so a Lifeboat child (the
 * replicator, a restore) does not add a second timestamp. Inherited output: `env` as is.
 */
export function outputEnv(prefix: boolean, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return prefix ? { ...env, [LOG_TIMESTAMPS_ENV]: '0' } : env;
}

/** outputStdio is the stdio for a child's fds 0–2: stdin closed; out and err piped when prefixing. */
export function outputStdio(prefix: boolean): StdioOptions {
  return prefix ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'];
}

/** runStdio is the stdio of a service's `run`: fds 0–2 as outputStdio says, a pipe at each of `pipes`, the fds between closed. */
export function runStdio(prefix: boolean, pipes: readonly number[]): StdioOptions {
  const stdio = [...(outputStdio(prefix) as ('ignore' | 'pipe' | 'inherit')[])];
  for (const fd of pipes) {
    while (stdio.length < fd) stdio.push('ignore');
    stdio[fd] = 'pipe';
  }
  return stdio;
}

/** pipeOutput prefixes a spawned child's piped stdout (unless `stdout: false`: it goes elsewhere) and stderr (no-op for inherited ones). */
export function pipeOutput(child: ChildProcess, name: string, opts: { stdout?: boolean } = {}): void {
  if (child.stdout && opts.stdout !== false) prefixLines(child.stdout, process.stdout, name, { stream: 'stdout' });
  if (child.stderr) prefixLines(child.stderr, process.stderr, name, { stream: 'stderr' });
}

/**
 * PrefixOptions: the stream the lines come from (default stdout) and their format, read at
 * each line (default: the init's log, configured once the config file is read — after the
 * prestarted replicator's output was wired).
 */
export interface PrefixOptions {
  stream?: ServiceStream;
  format?: () => LineFormat;
}

/** prefixLines copies `from` to `to`, each line formatted by formatServiceLine; flushes a partial line at the end. */
export function prefixLines(from: Readable, to: Writable, name: string, opts: PrefixOptions = {}): void {
  const stream = opts.stream ?? 'stdout';
  const format = opts.format ?? (() => log.format);
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const emit = (line: Buffer): void => {
    write(to, formatServiceLine(name, stream, Buffer.concat([...pending, line]), format()));
    pending = [];
    pendingLen = 0;
  };
  from.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(NL, start); nl !== -1; nl = chunk.indexOf(NL, start)) {
      emit(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingLen += chunk.length - start;
      if (pendingLen >= MAX_LINE) emit(Buffer.alloc(0));
    }
  });
  const flush = (): void => {
    if (pendingLen > 0) emit(Buffer.alloc(0));
  };
  from.on('end', flush);
  from.on('close', flush);
  from.on('error', flush);
}

/**
 * formatServiceLine renders one line of a service's output (`line` without its newline).
 * Text: `TIME name | line` (no TIME with timestamps off), the bytes as they came. JSON: a
 * line that is a JSON object keeps its fields, gets `service` (and `time` when it has
 * none); any other line becomes `{"time","level":"info","stream","service","msg"}`.
 */
export function formatServiceLine(name: string, stream: ServiceStream, line: Buffer, format: LineFormat, now = new Date()): Buffer {
  if (format.json) return Buffer.from(serviceJSON(name, stream, line.toString('utf8'), timestamp(now)) + '\n');
  const head = format.timestamps ? `${timestamp(now)} ${name} | ` : `${name} | `;
  return Buffer.concat([Buffer.from(head), line, Buffer.of(NL)]);
}

function serviceJSON(name: string, stream: ServiceStream, text: string, time: string): string {
  const obj = jsonObject(text);
  if (obj) return JSON.stringify({ time, ...obj, service: name });
  return JSON.stringify({ time, level: 'info', stream, service: name, msg: text });
}

/** jsonObject is `text` parsed when it is one JSON object (a Lifeboat child logging JSON), else undefined. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** write keeps the line in recentLines (the status page) and ignores a closed destination: losing a log line must not take the init down. */
function write(to: Writable, buf: Buffer): void {
  recentLines.add(buf);
  if (to.destroyed || to.writableEnded) return;
  try {
    to.write(buf);
  } catch {
    /* EPIPE on a closed stdout: nothing useful to do */
  }
}

/** ignoreBrokenStdio keeps an EPIPE on the init's own stdout or stderr from crashing it. */
export function ignoreBrokenStdio(): void {
  for (const s of [process.stdout, process.stderr]) if (s.listenerCount('error') === 0) s.on('error', () => {});
}

/** OUTPUT_DRAIN bounds the wait for a child's pipes to close after it exited (a grandchild may hold them). */
export const OUTPUT_DRAIN = 100;

/** outputDrained resolves once the child's piped stdout and stderr closed, or after OUTPUT_DRAIN ms. */
export function outputDrained(child: ChildProcess): Promise<void> {
  const open = [child.stdout, child.stderr].filter((s): s is Readable => s !== null && !s.closed);
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, OUTPUT_DRAIN);
    let left = open.length;
    for (const s of open) {
      s.once('close', () => {
        if (--left > 0) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}
