/**
 * control-socket: the running replicator answers on a unix socket beside each database it
 * replicates, `.<db file>-lifeboat.sock` (for `/data/app.db`, `/data/.app.db-lifeboat.sock`),
 * speaking HTTP: `GET /status` (status.ts), `/healthz`, `/metrics`. `lifeboat status` and the
 * init find it from the database path alone. The socket is made with mode 0600 (only its
 * owner, and root, may connect) in a private directory, then renamed into place; a symlink
 * or any other file at its path is refused, never followed or removed. The writer lock
 * (writer-lock.ts) makes the replicator the only one of its database, so a socket left
 * there by a killed run is stale and is replaced.
 */
import type { Server } from 'node:http';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { fs, loadHttp } from '../builtin.js';
import { errorMessage, isNotFound } from '../errors.js';
import type { Logger } from '../log.js';
import { closeServer, createHttpServer, type HttpServer, type Routes } from './http-server.js';

/** SOCKET_PATH_MAX is the longest unix socket path Linux takes (sun_path holds 108 bytes with the NUL). */
export const SOCKET_PATH_MAX = 107;

/** CONTROL_TIMEOUT is how long a client waits for the replicator's answer (ms). */
export const CONTROL_TIMEOUT = 2_000;

/** controlSocketPath is database `dbPath`'s control socket: `<dir>/.<file>-lifeboat.sock`. */
export function controlSocketPath(dbPath: string): string {
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}-lifeboat.sock`);
}

/**
 * listenControlSocket serves `routes` on database `dbPath`'s control socket. It does not
 * throw: when the socket cannot be made (a symlink or another file in the way, a path too
 * long, no directory yet) it logs one warning and resolves undefined — replication goes on
 * without it.
 */
export async function listenControlSocket(dbPath: string, routes: Routes, log: Logger): Promise<HttpServer | undefined> {
  const file = controlSocketPath(dbPath);
  try {
    return await listenUnixSocket(file, routes);
  } catch (err) {
    log.warn('no control socket: lifeboat status will read the replica instead', { socket: file, error: errorMessage(err) });
    return undefined;
  }
}

/**
 * listenUnixSocket serves `routes` on the unix socket `file` (its name must end in
 * `lifeboat.sock`), mode 0600, made privately and renamed into place (bindPrivately); a
 * stale socket there is replaced, a symlink or other file refused. Throws when it cannot.
 * The socket is removed on close and when the process exits.
 */
export async function listenUnixSocket(file: string, routes: Routes): Promise<HttpServer> {
  if (!file.endsWith('lifeboat.sock')) throw new Error(`socket name must end in lifeboat.sock: ${file}`);
  if (Buffer.byteLength(file) > SOCKET_PATH_MAX) throw new Error(`path longer than ${SOCKET_PATH_MAX} bytes`);
  removeStale(file);
  const server = await createHttpServer(routes);
  await bindPrivately(server, file);
  server.unref();
  const ino = fs.lstatSync(file).ino;
  const unlinkOurs = (): void => {
    try {
      if (fs.lstatSync(file).ino === ino) fs.unlinkSync(file);
    } catch {
      // gone already
    }
  };
  process.once('exit', unlinkOurs);
  return {
    address: file,
    close: async () => {
      process.off('exit', unlinkOurs);
      await closeServer(server);
      unlinkOurs();
    },
  };
}

/**
 * bindPrivately binds `server` in a fresh directory of our own (mode 0700, beside `file`),
 * makes the socket 0600 there — where nothing else can reach it or swap it for a symlink —
 * and only then renames it to `file`: no process-wide umask, no chmod on the shared path,
 * no moment open to others. The private directory is removed whatever happens; one left by
 * a run killed mid-bind is removed at the next start (removeStaleDirs).
 */
async function bindPrivately(server: Server, file: string): Promise<void> {
  // `.<db file>-lbXXXXXX/s` is shorter than `.<db file>-lifeboat.sock`: SOCKET_PATH_MAX holds.
  const prefix = file.slice(0, -'lifeboat.sock'.length) + 'lb';
  removeStaleDirs(prefix);
  const dir = fs.mkdtempSync(prefix);
  try {
    const tmp = path.join(dir, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tmp, () => resolve());
    });
    try {
      fs.chmodSync(tmp, 0o600);
      removeStale(file);
      fs.renameSync(tmp, file);
    } catch (err) {
      await closeServer(server);
      throw err;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * removeStaleDirs removes private directories (`<prefix>XXXXXX`, as mkdtemp names them) left
 * beside the socket by a run killed mid-bind. Only this database's: its writer lock makes us
 * its only replicator, so none of them is in use. Symlinks and files are left alone.
 */
function removeStaleDirs(prefix: string): void {
  const dir = path.dirname(prefix);
  const stem = path.basename(prefix);
  for (const name of fs.readdirSync(dir)) {
    if (name.length !== stem.length + 6 || !name.startsWith(stem) || !/^[A-Za-z0-9]{6}$/.test(name.slice(stem.length))) continue;
    const full = path.join(dir, name);
    if (fs.lstatSync(full, { throwIfNoEntry: false })?.isDirectory()) fs.rmSync(full, { recursive: true, force: true });
  }
}

/** removeStale removes a socket left at `file` by an earlier run; anything else there is an error. */
function removeStale(file: string): void {
  let st: Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (st.isSymbolicLink()) throw new Error('a symlink is in the way: refusing to follow it');
  if (!st.isSocket()) throw new Error('a file that is not a socket is in the way');
  fs.unlinkSync(file);
}

/** ControlUnreachable: no replicator answered on the control socket (none there, none listening, no answer in time). */
export class ControlUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlUnreachable';
  }
}

/** ControlReply is the replicator's answer: HTTP status and body. */
export interface ControlReply {
  status: number;
  body: string;
}

/**
 * askReplicator sends `GET route` on database `dbPath`'s control socket; throws
 * ControlUnreachable when no replicator answers, and refuses a socket path that is a
 * symlink (or not a socket) without connecting.
 */
export async function askReplicator(dbPath: string, route: string, timeoutMs = CONTROL_TIMEOUT): Promise<ControlReply> {
  return askSocket(controlSocketPath(dbPath), route, timeoutMs);
}

/**
 * askSocket sends `GET route` on the unix socket `file`; throws ControlUnreachable when
 * nothing answers, and refuses a path that is a symlink (or not a socket) without connecting.
 */
export async function askSocket(file: string, route: string, timeoutMs = CONTROL_TIMEOUT): Promise<ControlReply> {
  let st: Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    throw new ControlUnreachable(isNotFound(err) ? `no control socket ${file}` : `control socket ${file}: ${errorMessage(err)}`);
  }
  if (st.isSymbolicLink()) throw new ControlUnreachable(`control socket ${file} is a symlink: refusing to follow it`);
  if (!st.isSocket()) throw new ControlUnreachable(`control socket ${file} is not a socket`);
  const http = loadHttp();
  return new Promise<ControlReply>((resolve, reject) => {
    const req = http.get({ socketPath: file, path: route, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(new ControlUnreachable(`control socket ${file}: ${errorMessage(err)}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new ControlUnreachable(`control socket ${file}: ${err.code ?? err.message}`)));
  });
}
