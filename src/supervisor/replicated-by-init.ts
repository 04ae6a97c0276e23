/**
 * replicated-by-init: one replicator per database under `lifeboat init`. Trees written for
 * s6-overlay often run `litestream replicate` (or `lifeboat replicate`) as a service of
 * their own, while the init already replicates the same databases. The init tells its
 * services and its app which databases it replicates through LIFEBOAT_INIT_REPLICATES (its
 * own replicator does not get it); a `replicate` that finds its database there leaves it
 * to the init instead of refusing or writing beside it (cli/replicate.ts). The app still
 * stops first and the init's final sync still runs last.
 */
import path from 'node:path';

/** INIT_REPLICATES_ENV names the variable: the init's databases, absolute paths, one per line. */
export const INIT_REPLICATES_ENV = 'LIFEBOAT_INIT_REPLICATES';

/** childEnv is the environment of the init's services and app: `env` plus the databases the init replicates (none: `env` without the variable). */
export function childEnv(dbPaths: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out[INIT_REPLICATES_ENV];
  if (dbPaths.length > 0) out[INIT_REPLICATES_ENV] = dbPaths.map((p) => path.resolve(p)).join('\n');
  return out;
}

/** replicatedByInit is the set of database paths (absolute) the init replicates, per `env`; empty outside the init. */
export function replicatedByInit(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const v = env[INIT_REPLICATES_ENV];
  if (!v) return new Set();
  return new Set(v.split('\n').filter((p) => p !== '').map((p) => path.resolve(p)));
}
