/**
 * health: the mark a crash-looping replicator leaves beside each database it replicates,
 * for the app's health check or a container HEALTHCHECK to read. The file
 * `.<db file>-lifeboat.unhealthy` exists while replication is down in a crash loop and
 * holds one line: when and why. The init removes it when the replicator has recovered, and
 * at boot (a mark left by an earlier run says nothing about this one).
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { writeFileDurableSync } from '../fsync.js';
import type { Logger } from '../log.js';

/** unhealthyPath is the mark of database `dbPath`: `<dir>/.<file>-lifeboat.unhealthy`. */
export function unhealthyPath(dbPath: string): string {
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}-lifeboat.unhealthy`);
}

/** markUnhealthy writes the mark (tmp file, fsync, rename) beside each database; a failure is logged, never thrown. */
export function markUnhealthy(dbPaths: string[], reason: string, log: Logger): void {
  const line = `${new Date().toISOString()} ${reason}\n`;
  for (const db of dbPaths) {
    const file = unhealthyPath(db);
    try {
      writeFileDurableSync(file, line);
    } catch (err) {
      log.warn('could not write the unhealthy mark', { file, error: errorMessage(err) });
    }
  }
}

/** clearUnhealthy removes the mark beside each database, if there; a failure is logged, never thrown. */
export function clearUnhealthy(dbPaths: string[], log: Logger): void {
  for (const db of dbPaths) {
    const file = unhealthyPath(db);
    try {
      fs.rmSync(file, { force: true });
    } catch (err) {
      log.warn('could not remove the unhealthy mark', { file, error: errorMessage(err) });
    }
  }
}
