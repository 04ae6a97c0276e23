/**
 * status-client: asks running replicators for their status over the control sockets
 * (control-socket.ts), one database at a time: each database's socket belongs to the
 * process replicating it. Used by `lifeboat status` and the init's `/healthz`.
 */
import type { DbConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { askReplicator, ControlUnreachable } from './control-socket.js';
import { emptyReplica, type DbStatus, type StatusDoc } from './status.js';

/** Asked is one database's answer: its status and the replicator's pid, or why none came. */
export type Asked = { db: DbStatus; pid?: number } | { unreachable: string };

/** askStatus asks the replicator of each database of `dbs` for its status (in parallel); with `history`, the replicas' lag history too. */
export async function askStatus(dbs: readonly DbConfig[], history = false): Promise<Map<string, Asked>> {
  const answers = await Promise.all(dbs.map((db) => askOne(db.path, history)));
  return new Map(dbs.map((db, i) => [db.path, answers[i]]));
}

async function askOne(dbPath: string, history: boolean): Promise<Asked> {
  try {
    const reply = await askReplicator(dbPath, history ? '/status?history=1' : '/status');
    if (reply.status !== 200) return { unreachable: `replicator answered HTTP ${reply.status}` };
    const doc = JSON.parse(reply.body) as StatusDoc;
    const db = doc.databases.find((d) => d.path === dbPath);
    if (!db) return { unreachable: `the replicator on the control socket does not replicate ${dbPath}` };
    return { db, pid: doc.pid };
  } catch (err) {
    if (err instanceof ControlUnreachable) return { unreachable: err.message };
    return { unreachable: `bad answer on the control socket: ${errorMessage(err)}` };
  }
}

/** unknownDb is a database no replicator answered for: its replicas named, nothing known. */
export function unknownDb(db: DbConfig): DbStatus {
  return { path: db.path, state: 'unknown', position: null, replicas: db.replicas.map((r) => emptyReplica(r.name)) };
}
