/**
 * litestream: the reference Litestream v0.3.x binary for the interop tests. Its path comes
 * only from `$LITESTREAM_BIN`; without it the interop tests skip, printing why, except
 * under CI=true, where that is a failure.
 */
import { execa, type Options, type ResultPromise } from 'execa';
import { startWatched, type Running } from './replicate.js';

/** LITESTREAM_BIN is the Litestream binary the interop tests run, or undefined when `$LITESTREAM_BIN` is unset or empty. */
export const LITESTREAM_BIN: string | undefined = process.env.LITESTREAM_BIN || undefined;

/** litestreamSkipReason says why the interop tests cannot run here, or undefined when they can. */
export function litestreamSkipReason(): string | undefined {
  return LITESTREAM_BIN ? undefined : 'LITESTREAM_BIN is not set (a Litestream v0.3.x binary)';
}

/** litestream runs `$LITESTREAM_BIN ARGS`; it never throws on a non-zero exit. */
export function litestream(args: string[], opts: Options = {}): ResultPromise {
  return execa(requireBin(), args, { reject: false, all: true, ...opts }) as ResultPromise;
}

/** startLitestream runs `$LITESTREAM_BIN replicate -config CFG` and collects its output lines (it logs to stdout). */
export function startLitestream(cfg: string): Running {
  return startWatched(requireBin(), ['replicate', '-config', cfg]);
}

function requireBin(): string {
  if (!LITESTREAM_BIN) throw new Error('LITESTREAM_BIN is not set (a Litestream v0.3.x binary)');
  return LITESTREAM_BIN;
}
