/**
 * output: the output of services (not the app's) is piped and each line prefixed
 * `name | `, stdout to stdout and stderr to stderr; a last partial line is flushed, with a
 * newline, when the stream ends. `LIFEBOAT_LOG_PREFIX=0` gives children the init's own
 * stdout and stderr instead.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { recentLines } from '../recent-lines.js';

/** MAX_LINE is where an endless line is cut and written, so memory stays bounded. */
export const MAX_LINE = 64 * 1024;

const NL = 0x0a;

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

/** pipeOutput prefixes a spawned child's piped stdout and stderr (no-op for inherited ones). */
export function pipeOutput(child: ChildProcess, name: string): void {
  if (child.stdout) prefixLines(child.stdout, process.stdout, name);
  if (child.stderr) prefixLines(child.stderr, process.stderr, name);
}

/** prefixLines copies `from` to `to`, every line prefixed `name | `; flushes a partial line at the end. */
export function prefixLines(from: Readable, to: Writable, name: string): void {
  const prefix = Buffer.from(`${name} | `);
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const emit = (line: Buffer): void => {
    write(to, Buffer.concat([prefix, ...pending, line, Buffer.of(NL)]));
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
