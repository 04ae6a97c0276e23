/**
 * svscan: the init's services as s6 scan directories, for the s6 commands that scripts
 * written for s6-overlay call — `s6-svscanctl -t /var/run/s6/services` in an app's
 * `finish`, `s6-svc -d /run/service/web`, `s6-svstat`, `s6-svwait`. Those commands are ours
 * (src/cli/s6-*.ts); they talk to the init over a unix socket in each scan directory,
 * `<scandir>/.s6-svscan/lifeboat.sock` (mode 0600: root, or the init's user), speaking
 * the same small HTTP as the replicator's control socket (control-socket.ts):
 *
 *   GET /svscanctl?cmd=t               stop the container (the ordered stop of a SIGTERM)
 *   GET /svc?service=NAME&cmd=d&cmd=u  s6-svc's commands, in order; answers the new status
 *   GET /svstat?service=NAME           the status (sv-status.ts), JSON
 *
 * The init makes `<scandir>/<name>/` for every service so that the paths scripts name
 * exist; a command finds the socket from the service directory's parent and the service
 * from its base name. Unknown service: 404; the container stopping: 409; a bad command: 400.
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { jsonReply, type HttpReply, type HttpServer, type Routes } from '../replicator/http-server.js';
import { listenUnixSocket } from '../replicator/control-socket.js';
import type { Service } from './service.js';
import { isRunning } from './service.js';
import { svStatus } from './sv-status.js';

/** SCAN_SOCKET is the control socket's path inside a scan directory. */
export const SCAN_SOCKET = '.s6-svscan/lifeboat.sock';

/** SVC_SIGNALS maps s6-svc's signal letters to their signals. */
export const SVC_SIGNALS: Readonly<Record<string, NodeJS.Signals>> = {
  a: 'SIGALRM', b: 'SIGABRT', q: 'SIGQUIT', h: 'SIGHUP', k: 'SIGKILL', t: 'SIGTERM',
  i: 'SIGINT', '1': 'SIGUSR1', '2': 'SIGUSR2', p: 'SIGSTOP', c: 'SIGCONT', y: 'SIGWINCH',
};

/** SVC_COMMANDS are s6-svc's state commands the init carries out (besides the signals and `sig:NAME`). */
export const SVC_COMMANDS = ['u', 'd', 'o', 'O', 'r', 'x'] as const;

/** scanSocket is scan directory `scandir`'s control socket. */
export function scanSocket(scandir: string): string {
  return path.join(scandir, SCAN_SOCKET);
}

/** ScanControlOptions: where, which services, and how to stop the container. */
export interface ScanControlOptions {
  dirs: readonly string[];
  /** names are the services to make directories for. */
  names: readonly string[];
  /** service finds a running service by name (undefined: none such, or not started yet). */
  service(name: string): Service | undefined;
  /** stop stops the container, as a SIGTERM does; `stopping` says whether it already is. */
  stop(): void;
  stopping(): boolean;
  log: Logger;
}

/** ScanControl serves the scan directories' control sockets; `close` ends them. */
export class ScanControl {
  private readonly servers: HttpServer[] = [];
  /** exited are the services told `-x`: once down, the init no longer takes commands for them (s6-supervise exits). */
  private readonly exited = new Set<string>();

  private constructor(private readonly opts: ScanControlOptions) {}

  /** open makes the directories and listens in each; a directory it cannot use is one warning, never a failure. */
  static async open(opts: ScanControlOptions): Promise<ScanControl> {
    const control = new ScanControl(opts);
    const seen = new Set<string>();
    for (const dir of opts.dirs) {
      try {
        fs.mkdirSync(path.join(dir, path.dirname(SCAN_SOCKET)), { recursive: true, mode: 0o755 });
        for (const name of opts.names) fs.mkdirSync(path.join(dir, name), { recursive: true, mode: 0o755 });
        const real = fs.realpathSync(dir);
        if (seen.has(real)) continue;
        seen.add(real);
        control.servers.push(await listenUnixSocket(scanSocket(real), control.routes()));
      } catch (err) {
        opts.log.warn('no s6 scan directory here: s6-svc and s6-svscanctl will not reach the init through it', { dir, error: errorMessage(err) });
      }
    }
    if (control.servers.length > 0) opts.log.debug('s6 scan directories ready', { dirs: control.servers.map((s) => s.address).join(',') });
    return control;
  }

  /** close stops serving and removes the sockets (the directories stay). */
  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }

  private routes(): Routes {
    return {
      '/svscanctl': (q) => this.svscanctl(q.get('cmd') ?? ''),
      '/svc': (q) => this.withService(q, (s) => this.svc(s, q.getAll('cmd'))),
      '/svstat': (q) => this.withService(q, (s) => jsonReply(svStatus(s))),
    };
  }

  private svscanctl(cmd: string): HttpReply {
    if (cmd !== 't') return text(400, `unsupported command: ${JSON.stringify(cmd)}`);
    if (!this.opts.stopping()) {
      this.opts.log.info('s6-svscanctl -t: stopping the container');
      this.opts.stop();
    }
    return text(200, 'stopping');
  }

  private withService(q: URLSearchParams, answer: (s: Service) => HttpReply): HttpReply {
    const name = q.get('service') ?? '';
    const service = this.opts.service(name);
    if (!service || (this.exited.has(name) && !isRunning(service.state.phase))) return text(404, `no such service: ${JSON.stringify(name)}`);
    return answer(service);
  }

  /** svc checks every command first, then carries them out in order; a stopping container takes signals only. */
  private svc(service: Service, cmds: string[]): HttpReply {
    const bad = cmds.find((c) => signalOf(c) === undefined && !(SVC_COMMANDS as readonly string[]).includes(c));
    if (bad !== undefined) return text(400, `unknown command: ${JSON.stringify(bad)}`);
    if (this.opts.stopping() && cmds.some((c) => c === 'u' || c === 'o' || c === 'r')) return text(409, 'the container is stopping');
    for (const cmd of cmds) this.apply(service, cmd);
    return jsonReply(svStatus(service));
  }

  private apply(service: Service, cmd: string): void {
    const sig = signalOf(cmd);
    if (sig) return void service.signal(sig);
    this.opts.log.info(`s6-svc -${cmd}`, { service: service.name });
    if (cmd === 'u') return service.start();
    if (cmd === 'd') return void service.stop();
    if (cmd === 'o') return service.runOnce();
    if (cmd === 'O' && isRunning(service.state.phase)) return service.runOnce();
    if (cmd === 'r') return void service.signal(service.def.downSignal);
    if (cmd === 'x') this.exited.add(service.name);
  }
}

/** signalOf is the signal of a signal command: a letter of SVC_SIGNALS, or `sig:NAME` (s6-svc -s). */
function signalOf(cmd: string): NodeJS.Signals | undefined {
  if (Object.hasOwn(SVC_SIGNALS, cmd)) return SVC_SIGNALS[cmd];
  const named = cmd.startsWith('sig:') ? cmd.slice(4) : undefined;
  return named !== undefined && Object.values(SVC_SIGNALS).includes(named as NodeJS.Signals) ? (named as NodeJS.Signals) : undefined;
}

function text(status: number, body: string): HttpReply {
  return { status, type: 'text/plain; charset=utf-8', body: `${body}\n` };
}
