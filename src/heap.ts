/**
 * heap: V8's young generation for the commands that move many bytes. V8 grows each
 * semi-space up to 16 MB while a program allocates fast. `restore` and `replicate` move
 * Buffers (outside V8's heap) and short-lived small objects, so a young generation that
 * stays at its initial size costs them nothing and keeps tens of MB less resident: a 1 GB
 * restore peaked at 105–109 MB instead of 164–183 MB, with less CPU (docs/benchmarks.md,
 * "The young generation"). `--semi-space-growth-factor` takes effect when set from the
 * running process; `--max-semi-space-size` is read once, at start-up.
 */
import { loadV8 } from './builtin.js';

/** SIZED is a node option that already sizes the young generation (as the init gives its replicator). */
const SIZED = /^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/;

/** keepYoungGenerationSmall stops V8's semi-spaces from growing, unless node's options already size them. */
export function keepYoungGenerationSmall(): void {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (options.some((o) => SIZED.test(o))) return;
  loadV8().setFlagsFromString('--semi-space-growth-factor=1');
}
