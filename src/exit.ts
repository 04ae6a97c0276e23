/**
 * exit: how every Lifeboat process ends. Node's own `process.exit` shuts V8's platform
 * down by joining its worker threads; on Node 24 and 26 a background compile job
 * (Sparkplug, Maglev) can be parked there waiting for a garbage collection that the
 * exiting main thread will never run, and the process hangs for ever (nodejs/node#54918,
 * #64274; seen here as a `lifeboat restore` that never exited, in 2 of 13 runs of the
 * reliability harness). An init or restore that never exits is a container that never
 * stops or never boots, so the process ends with `_exit` through our addon once the
 * 'exit' listeners have run. Without the addon (no compiler at install), `process.exit`.
 */
import { loadAddon } from './native.js';

/**
 * exitProcess runs the 'exit' listeners as `process.exit` would, then ends the process
 * with `code` (0–255) at once. Write to stdout and stderr before it: on Linux those writes
 * are synchronous for files, pipes and terminals, and a caller that wants them drained
 * (sockets) waits for their callbacks first, as src/cli/main.ts does.
 */
export function exitProcess(code: number): never {
  const exitNow = loadAddon().addon?.exitNow;
  if (!exitNow) process.exit(code);
  process.exitCode = code;
  process.emit('exit', code);
  return exitNow(code);
}
