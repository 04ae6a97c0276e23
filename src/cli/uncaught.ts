/**
 * uncaught: an error nothing caught (a bug) in any command but the init ends it with one
 * line on stderr and exit 1, through exitProcess. Left to Node, it would end through the
 * exit path that can hang on Node 24 and 26 (src/exit.ts): a `replicate` under the init
 * would then hang instead of being restarted. The init has its own handling, which stops
 * the app and flushes first (src/supervisor/fatal.ts).
 */
import { exitProcess } from '../exit.js';

/** TEST_FAIL_ENV makes the command fail the way a bug would (`uncaught` or `rejection`); test-only. Not the init's LIFEBOAT_TEST_FAIL, which its replicator inherits. */
export const TEST_FAIL_ENV = 'LIFEBOAT_TEST_COMMAND_FAIL';

/** exitOnUncaught installs the handlers for command `cmd`, then fails on purpose if TEST_FAIL_ENV asks for it. */
export function exitOnUncaught(cmd: string, env: NodeJS.ProcessEnv = process.env): void {
  const fail = (what: string, err: unknown): void => {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`lifeboat ${cmd}: internal error (${what}): ${detail.replace(/\s*\n\s*/g, ' | ')}\n`);
    exitProcess(1);
  };
  process.on('uncaughtException', (err) => fail('uncaught exception', err));
  process.on('unhandledRejection', (reason) => fail('unhandled rejection', reason));
  const mode = env[TEST_FAIL_ENV];
  if (mode === 'uncaught') setImmediate(() => { throw new Error(`${TEST_FAIL_ENV}=uncaught`); });
  else if (mode === 'rejection') void Promise.reject(new Error(`${TEST_FAIL_ENV}=rejection`));
}
