/**
 * init: `lifeboat init` — boot (handlers and reaper, cont-init.d, restore, the replicator
 * and its readiness, services, the app) and shutdown (the app first, then the services,
 * the final sync last — by the replicator, or a one-shot run when it is down —
 * cont-finish.d, leftovers), ending with the exit code of docs/exit-codes.md. The steps
 * read top to bottom in `run`, `boot` and `shutdown`.
 */
import path from 'node:path';
import { nowMs } from '../clock.js';
import { noConfigFound, type ParsedText } from '../config/load.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { spawnApp, type AppProcess } from './app.js';
import type { Prestarted } from './prestart.js';
import { otherWriter, REPLICATOR_NAME, replicatorDef, restoreMissing } from './builtin.js';
import { killLeftovers } from './cleanup.js';
import { saveContainerEnv } from './container-env.js';
import { finalSyncStarting, onFatal, testFailure } from './fatal.js';
import { clearUnhealthy, markUnhealthy } from './health.js';
import { InitCounters } from './init-counters.js';
import type { InitEndpoints } from './init-endpoints.js';
import type { Knobs } from './knobs.js';
import { lastFlush } from './last-flush.js';
import { failed, listScripts, runScript } from './oneshot.js';
import { ignoreBrokenStdio } from './output.js';
import { Reaper } from './reaper.js';
import { noteFixAttrs, runStage2Hook, signalMode, startS6rc, syncDisks } from './init-s6.js';
import { warnUnsupported } from './s6-knobs.js';
import type { S6rcTree } from './s6rc-run.js';
import { startService, superviseService } from './service-logger.js';
import { childEnv } from './replicated-by-init.js';
import type { ServiceDef } from './service-dir.js';
import type { Exit } from './service-table.js';
import { Service, type ServiceOptions } from './service.js';
import type { ScanControl } from './svscan.js';
import { appStopSignal, describeExit, exitCode, onSignals, signalAction, type SignalMode } from './signals.js';

/** EXIT_INIT_FAILED: the init could not do its job (restore failed, never ready, cont-init.d failed). */
export const EXIT_INIT_FAILED = 111;

/** EXIT_SYNC_FAILED replaces an app code of 0 when the final sync did not complete. */
export const EXIT_SYNC_FAILED = 1;

/**
 * LOST_EXIT_MS: how long after its SIGKILL (and its finish's timeout) a stopped child's
 * exit may take to reach us before the shutdown goes on without it. An exit that never
 * arrives (its pid reaped by someone else) must not hang the container's stop.
 */
export const LOST_EXIT_MS = 2_000;

/** InitSetup is everything read before anything starts (see src/cli/init.ts). */
export interface InitSetup {
  knobs: Knobs;
  /** command is the app's argv; empty runs the services alone. */
  command: string[];
  services: ServiceDef[];
  /** config and configPath: the replicator runs when the config has databases. */
  config?: Config;
  configPath?: string;
  /** childFlags are passed on to `restore` and `replicate` (e.g. `-no-expand-env`). */
  childFlags?: string[];
  /** prestarted is the replicator's process started early, waiting for its start line (prestart.ts). */
  prestarted?: Prestarted;
  /** parsedConfig is the parse `config` came from, handed on to `restore` (builtin.ts). */
  parsedConfig?: ParsedText;
  log: Logger;
}

/** StopReason is why the container goes down; the first one wins. */
export type StopReason =
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'app'; exit: Exit }
  | { kind: 'essential'; service: string; exit: Exit }
  | { kind: 'failed'; message: string };

/** checkSetup rejects what cannot run under the init: `exec:` in the config, a service named like the replicator. */
export function checkSetup(setup: Pick<InitSetup, 'config' | 'services'>): void {
  if (setup.config?.exec !== undefined) {
    throw new ConfigError('exec', 'not allowed under lifeboat init: the app is the command line (CMD)', setup.config.exec);
  }
  if (setup.config?.dbs.length && setup.services.some((s) => s.name === REPLICATOR_NAME)) {
    throw new ConfigError(REPLICATOR_NAME, 'service name is reserved for the built-in replicator');
  }
}

/** runInit boots, runs until a stop reason, shuts down in order and returns the exit code. */
export async function runInit(setup: InitSetup): Promise<number> {
  checkSetup(setup);
  return new Init(setup).run();
}

class Init {
  private readonly log: Logger;
  private readonly knobs: Knobs;
  private reason?: StopReason;
  private readonly stopAbort = new AbortController();
  private readonly skipGrace = new AbortController();
  private wake!: () => void;
  private readonly stopRequested = new Promise<void>((resolve) => (this.wake = resolve));
  private reaper?: Reaper;
  private replicator?: Service;
  private services: Service[] = [];
  /** s6rc is the s6-overlay v3 tree (s6rc-run.ts), when there is one. */
  private s6rc?: S6rcTree;
  private app?: AppProcess;
  private readonly signalMode: SignalMode;
  /** counters feed the init's /metrics (init-endpoints.ts). */
  private readonly counters = new InitCounters();
  /** crashLoop is the replicator's crash-loop report while it lasts. */
  private crashLoop?: string;
  private endpoints?: InitEndpoints;
  /** scan serves s6-svc, s6-svstat, s6-svwait and s6-svscanctl (svscan.ts). */
  private scan?: ScanControl;

  constructor(private readonly setup: InitSetup) {
    this.log = setup.log;
    this.knobs = setup.knobs;
    this.signalMode = signalMode(setup.knobs);
  }

  /** run is the whole life of the container. */
  async run(): Promise<number> {
    // Handlers for every stop and forward signal (as PID 1 an unhandled signal is dropped;
    // those held since Node started come first), and a last resort for our own bugs.
    ignoreBrokenStdio();
    onSignals((sig) => this.onSignal(sig));
    onFatal(this.log, this.knobs, (message) => this.requestStop({ kind: 'failed', message }));
    // Reap orphans: as PID 1, or as a child subreaper so orphans of our services come to us.
    this.reaper = Reaper.start(this.log);
    this.log.info('init started', { pid: process.pid, reaper: this.reaper.role });
    warnUnsupported(process.env, this.log);
    noteFixAttrs(this.knobs.fixAttrsDir, this.log);
    // The environment where s6-overlay keeps it, for with-contenv: before any script runs.
    saveContainerEnv(this.knobs.containerEnvDirs, process.env, this.log);
    this.logReplicationOff();
    // Boot; then run until the app exits, an essential service ends, or a stop signal.
    const failure = await this.boot();
    this.setup.prestarted?.discard();
    if (failure) this.requestStop({ kind: 'failed', message: failure });
    // Live until a stop reason, even with nothing running (every service down by s6-svc -d).
    const alive = setInterval(() => {}, 2 ** 30);
    await this.stopRequested;
    clearInterval(alive);
    return this.shutdown();
  }

  /** logReplicationOff says so when no database will be replicated: no config file, or one without databases. */
  private logReplicationOff(): void {
    const { config } = this.setup;
    if (!config) this.log.info(`${noConfigFound()}: replication is off`);
    else if (config.dbs.length === 0) this.log.info(`config ${config.file ?? this.setup.configPath} has no databases: replication is off`);
  }

  /** boot runs the boot steps in order; returns a failure message (exit 111) or undefined. */
  private async boot(): Promise<string | undefined> {
    // The config's addr first: /healthz answers (503) from the first moment of the boot.
    await this.listen();
    const t0 = nowMs();
    // S6_STAGE2_HOOK, first: it may change the trees read below.
    await runStage2Hook(this.knobs, this.stopAbort.signal, this.log);
    // cont-init.d/*, in lexical order, each to completion.
    const initFailure = await this.contInit();
    if (initFailure || this.reason) return initFailure;
    // Refuse databases another process replicates; restore every missing database that has
    // a replica; any failure but "no replica" stops us.
    if (this.setup.config && this.setup.configPath) {
      const held = otherWriter(this.setup.config);
      if (held) return held;
      const onRestored = (db: string, ms: number, bytes: number) => this.counters.restores.push({ db, ms, bytes });
      const opts = { log: this.log, prefix: this.knobs.logPrefix, abort: this.stopAbort.signal, flags: this.setup.childFlags, onRestored, parsedConfig: this.setup.parsedConfig };
      const restoreFailure = await restoreMissing(this.setup.config, this.setup.configPath, opts);
      if (restoreFailure || this.reason) return restoreFailure;
    }
    // The replicator first; services and the app only once it is ready (they write the database).
    this.startReplicator();
    const replicatorNotReady = await this.waitReady(this.replicator ? [this.replicator] : []);
    if (replicatorNotReady || this.reason) return replicatorNotReady;
    // The s6-overlay v3 tree (`user` bundle) in dependency order, within S6_CMD_WAIT_FOR_SERVICES_MAXTIME.
    const onService = (s: Service): void => void s.on('restart', () => this.counters.restarted(s.name));
    const stopService = (s: Service): Promise<void> => this.stopService(s);
    const onTree = (tree: S6rcTree): void => void (this.s6rc = tree);
    const s6rc = await startS6rc(this.knobs, t0, { log: this.log, service: this.serviceOptions(), abort: this.stopAbort.signal, stopService, onService, onTree });
    if (s6rc.failure || this.reason) return s6rc.failure;
    // The longrun services not marked `down`, controllable by the s6 commands; then wait for
    // those with a notification-fd.
    await this.openScan();
    this.startServices();
    const notReady = await this.waitReady(this.services);
    if (notReady || this.reason) return notReady;
    // The app: its own process group, stdio inherited and unprefixed.
    this.startApp();
    return undefined;
  }

  /** shutdown stops everything in order and returns the exit code. */
  private async shutdown(): Promise<number> {
    const reason = this.reason!;
    this.logReason(reason);
    // 1. The app first: the stop signal to its group, SIGKILL after its grace (a second TERM/INT cuts it).
    const appExit = await this.stopApp(reason);
    // 2. The other services, together: their down-signal, then SIGKILL after timeout-kill.
    if (this.services.length > 0) this.log.info('stopping services', { count: this.services.length });
    await Promise.all(this.services.map((s) => this.stopService(s)));
    // 2b. The v3 tree, in reverse dependency order (oneshots' `down` included).
    await this.s6rc?.stop();
    // 2c. Nothing may write during the final sync: services left running end now.
    await this.endLeftRunning();
    // 3. The final sync last, bounded by LIFEBOAT_SYNC_GRACETIME: the replicator's, or a one-shot run.
    const synced = await this.finalSync();
    // 4. cont-finish.d/*, each bounded.
    await this.contFinish();
    // 5. TERM every remaining descendant, KILL after LIFEBOAT_KILL_GRACETIME, reap.
    await killLeftovers(this.knobs.killGrace, this.reaper, this.log);
    this.reaper?.stop();
    // S6_SYNC_DISKS: flush every file system's buffers (sync(2)) before PID 1 exits.
    if (this.knobs.syncDisks) syncDisks(this.log);
    await this.scan?.close();
    await this.endpoints?.close();
    // 6. The exit code: the app's (128+N for a signal), 111, and 1 instead of 0 without a final sync.
    const code = finalCode(reason, appExit, synced);
    this.log.info('init exiting', { code });
    return code;
  }

  private requestStop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.stopAbort.abort();
    this.wake();
  }

  private onSignal(sig: NodeJS.Signals): void {
    const action = signalAction(sig, this.signalMode, this.app !== undefined && !this.app.exit);
    if (action === 'ignore') return void this.log.info('signal ignored, as under s6-overlay', { signal: sig });
    if (action === 'forward') {
      if (this.app?.signal(sig)) this.log.debug('forwarded signal to app', { signal: sig });
      return;
    }
    if (!this.reason) return this.requestStop({ kind: 'signal', signal: sig });
    if ((sig === 'SIGTERM' || sig === 'SIGINT') && this.app && !this.app.exit && !this.skipGrace.signal.aborted) {
      this.log.warn('second stop signal: skipping the app grace time', { signal: sig });
      this.skipGrace.abort();
    }
  }

  private async contInit(): Promise<string | undefined> {
    for (const script of listScripts(this.knobs.contInitDir)) {
      if (this.reason) return undefined;
      const name = `cont-init.d/${path.basename(script)}`;
      const r = await runScript(script, { name, prefix: this.knobs.logPrefix, abort: this.stopAbort.signal }, this.log);
      if (!failed(r) || this.reason) continue;
      const how = r.error ? { error: r.error } : describeExit(r);
      if (this.knobs.behaviourIfInitFails === 2) return `${name} failed: ${Object.values(how).join(' ')}`;
      if (this.knobs.behaviourIfInitFails === 1) this.log.warn('cont-init.d script failed: continuing', { script: name, ...how });
    }
    return undefined;
  }

  private serviceOptions(): ServiceOptions {
    const crashLoop = { deaths: this.knobs.crashLoopDeaths, windowMs: this.knobs.crashLoopWindow };
    const env = childEnv(this.replicatedPaths());
    return { log: this.log, prefix: this.knobs.logPrefix, crashLoop, env };
  }

  /** replicatedPaths are the databases the built-in replicator replicates (none without a config). */
  private replicatedPaths(): string[] {
    const { config, configPath } = this.setup;
    return config && configPath ? config.dbs.map((db) => db.path) : [];
  }

  /**
   * startReplicator starts the built-in replicator when the config has databases. A crash
   * loop marks the databases unhealthy (health.ts) until it recovers, and with
   * LIFEBOAT_STOP_ON_CRASH_LOOP=1 stops the container.
   */
  private startReplicator(): void {
    const { config, configPath } = this.setup;
    if (!config || !configPath || config.dbs.length === 0) return;
    const def = replicatorDef(configPath, this.knobs, this.setup.childFlags);
    const dbPaths = config.dbs.map((db) => db.path);
    clearUnhealthy(dbPaths, this.log);
    this.replicator = new Service(def, { ...this.serviceOptions(), env: process.env, prestarted: this.setup.prestarted });
    this.replicator.on('restart', () => this.counters.restarted(REPLICATOR_NAME));
    this.replicator.on('crashLoop', (message: string, lastError: string) => {
      this.crashLoop = `replicator ${message}${lastError ? `; last error: ${lastError}` : ''}`;
      markUnhealthy(dbPaths, this.crashLoop, this.log);
      if (this.knobs.stopOnCrashLoop) this.requestStop({ kind: 'failed', message: `replicator ${message} (LIFEBOAT_STOP_ON_CRASH_LOOP=1)` });
      else this.log.error('replication is down: the app keeps running (LIFEBOAT_STOP_ON_CRASH_LOOP=1 stops the container)');
    });
    this.replicator.on('recovered', () => {
      this.crashLoop = undefined;
      clearUnhealthy(dbPaths, this.log);
    });
    this.replicator.start();
  }

  /** listen serves the config's addr (init-endpoints.ts); a failure to bind is only a warning. */
  private async listen(): Promise<void> {
    const config = this.setup.config;
    if (!config?.addr) return;
    // Loaded only for an addr: the HTTP routes, the status page and the metrics (~0.7 MB resident).
    const { InitEndpoints } = await import('./init-endpoints.js');
    this.endpoints = new InitEndpoints({
      config,
      counters: this.counters,
      replicatorPhase: () => this.replicator?.state.phase,
      crashLoop: () => this.crashLoop,
      serviceNames: () => [...this.setup.services.map((s) => s.name), ...(this.s6rc?.names() ?? [])],
      serviceViews: () => [...(this.replicator ? [this.replicator] : []), ...this.services, ...(this.s6rc?.views() ?? [])],
      log: this.log,
    });
    await this.endpoints.listen();
  }

  /** openScan makes the s6 directories of the services (services.d's, and the v3 tree's longruns) and serves the s6 commands there (LIFEBOAT_SCAN_DIRS). */
  private async openScan(): Promise<void> {
    if (this.knobs.scanDirs.length === 0) return;
    const v3 = this.s6rc?.services ?? [];
    const { ScanControl } = await import('./svscan.js');
    this.scan = await ScanControl.open({
      dirs: this.knobs.scanDirs,
      names: [...this.setup.services.map((s) => s.name), ...v3.map((s) => s.name)],
      service: (name) => this.services.find((s) => s.name === name) ?? v3.find((s) => s.name === name),
      stop: () => this.requestStop({ kind: 'signal', signal: 'SIGTERM' }),
      stopping: () => this.reason !== undefined,
      log: this.log,
    });
  }

  private startServices(): void {
    const opts = this.serviceOptions();
    for (const def of this.setup.services) {
      const service = superviseService(def, opts);
      this.services.push(service);
      service.on('restart', () => this.counters.restarted(def.name));
      service.on('failed', (exit: Exit) => {
        if (def.essential) this.requestStop({ kind: 'essential', service: def.name, exit });
      });
      if (!def.down) startService(service);
    }
  }

  /** waitReady resolves undefined once every started service of `services` with a notification fd is ready, else the failure. */
  private async waitReady(services: Service[]): Promise<string | undefined> {
    const waiting = services.filter((s) => s.def.notificationFd !== undefined && !s.def.down);
    const pending = new Set(waiting.filter((s) => s.state.readyAt === undefined));
    if (pending.size === 0) return undefined;
    this.log.info('waiting for readiness', { services: [...pending].map((s) => s.name).join(','), timeout_ms: this.knobs.readyTimeout });
    const t0 = nowMs();
    let timer: NodeJS.Timeout | undefined;
    const allReady = Promise.all([...pending].map((s) => new Promise<void>((resolve) => s.once('ready', () => resolve(void pending.delete(s))))));
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.knobs.readyTimeout)));
    await Promise.race([allReady, timeout, this.stopRequested]);
    clearTimeout(timer);
    if (pending.size === 0) this.log.info('ready', { waited_ms: Math.round(nowMs() - t0) });
    if (pending.size === 0 || this.reason) return undefined;
    return `not ready after ${this.knobs.readyTimeout} ms: ${[...pending].map((s) => s.name).join(', ')}`;
  }

  private startApp(): void {
    if (this.setup.command.length === 0) {
      this.log.info('no app command: running services until stopped');
      return;
    }
    // S6_CMD_ARG0 goes before a CMD, as s6-overlay's `$arg0 "$@"` (no CMD: no app).
    const app = spawnApp([...this.knobs.cmdArg0, ...this.setup.command], { env: childEnv(this.replicatedPaths()) });
    this.app = app;
    void app.spawned.then((ok) => {
      if (ok) this.log.info('app started', { pid: app.pid, boot_ms: Math.round(process.uptime() * 1000) });
      if (ok && this.knobs.testFail) testFailure(this.knobs.testFail);
    });
    void app.exited.then((exit) => {
      if (app.spawnError) this.log.error(`app could not start: ${app.spawnError.message}`, { code: exitCode(exit) });
      else this.log.info('app exited', describeExit(exit));
      this.requestStop({ kind: 'app', exit });
    });
  }

  private async stopApp(reason: StopReason): Promise<Exit | undefined> {
    const app = this.app;
    if (!app) return undefined;
    if (app.exit) return app.exit;
    const sig = reason.kind === 'signal' ? appStopSignal(reason.signal) : 'SIGTERM';
    this.log.info('stopping app', { signal: sig, grace_ms: this.knobs.appGrace });
    const exit = await app.stop(sig, this.knobs.appGrace, this.skipGrace.signal);
    return exit;
  }

  /** finalSync runs the last flush when the config has databases; true when synced (or nothing to sync). */
  private async finalSync(): Promise<boolean> {
    finalSyncStarting();
    const { config, configPath } = this.setup;
    if (!config || !configPath || config.dbs.length === 0) return true;
    // Never started because another process replicates a database: that one flushes, not us.
    const held = this.replicator ? undefined : otherWriter(config);
    if (held) {
      this.log.error(`no last flush: ${held}`);
      return false;
    }
    const opts = { log: this.log, prefix: this.knobs.logPrefix, graceMs: this.knobs.syncGrace, configPath, flags: this.setup.childFlags };
    return lastFlush(this.replicator, { ...opts, lostExitMs: LOST_EXIT_MS });
  }

  /**
   * stopService stops one service, then its logger: with a timeout-kill, its timeout-kill,
   * its finish's timeout, then LOST_EXIT_MS at most; without (s6: never SIGKILLed), at most
   * LIFEBOAT_SERVICES_GRACETIME, after which it is left to the leftovers' TERM and KILL.
   */
  private async stopService(s: Service): Promise<void> {
    const finish = s.def.finish === undefined ? 0 : s.def.timeoutFinish;
    const kill = s.def.timeoutKill;
    const stopped = await within(s.stop(), kill === undefined ? Math.max(1, this.knobs.servicesGrace) : kill + finish + LOST_EXIT_MS);
    if (stopped.done) {
      if (s.logger) await this.stopService(s.logger);
      return;
    }
    if (kill === undefined) {
      this.log.warn('service still running after LIFEBOAT_SERVICES_GRACETIME: left to the final kill, before the final sync', { service: s.name, grace_ms: this.knobs.servicesGrace });
      s.abandon();
    }
    else this.log.error('service did not report its exit after SIGKILL: going on without it', { service: s.name });
    if (s.logger) await this.stopService(s.logger);
  }

  /**
   * endLeftRunning ends the services the stop left running (no timeout-kill, still up after
   * LIFEBOAT_SERVICES_GRACETIME): TERM to their process groups, KILL after
   * LIFEBOAT_KILL_GRACETIME — s6-overlay's last kill, brought before the final sync, since a
   * service that writes the database after it would lose those writes.
   */
  private async endLeftRunning(): Promise<void> {
    const left = [...this.services, ...(this.s6rc?.services ?? [])].flatMap((s) => [s, ...(s.logger ? [s.logger] : [])]).filter((s) => s.leftRunning);
    if (left.length === 0) return;
    this.log.warn('ending services left running before the final sync', { services: left.map((s) => s.name).join(','), grace_ms: this.knobs.killGrace });
    for (const s of left) s.signalRunGroup('SIGTERM');
    const all = Promise.all(left.map((s) => s.whenStopped()));
    if (this.knobs.killGrace > 0 && (await within(all, this.knobs.killGrace)).done) return;
    for (const s of left) if (s.leftRunning) s.signalRunGroup('SIGKILL');
    await within(all, LOST_EXIT_MS);
  }

  private async contFinish(): Promise<void> {
    for (const script of listScripts(this.knobs.contFinishDir)) {
      const name = `cont-finish.d/${path.basename(script)}`;
      const r = await runScript(script, { name, prefix: this.knobs.logPrefix, timeoutMs: this.knobs.contFinishTimeout }, this.log);
      if (!failed(r)) continue;
      const how = r.error ? { error: r.error } : describeExit(r);
      this.log.warn('cont-finish.d script failed', { script: name, timed_out: r.timedOut || undefined, ...how });
    }
  }

  private logReason(reason: StopReason): void {
    if (reason.kind === 'failed') this.log.error(`init failed: ${reason.message}`);
    else if (reason.kind === 'signal') this.log.info('received stop signal', { signal: reason.signal });
    else if (reason.kind === 'essential') this.log.info('essential service ended', { service: reason.service, ...describeExit(reason.exit) });
  }
}

/** finalCode applies the exit-code table (docs/exit-codes.md). */
export function finalCode(reason: StopReason, appExit: Exit | undefined, synced: boolean): number {
  let code: number;
  if (reason.kind === 'failed') code = EXIT_INIT_FAILED;
  else if (reason.kind === 'essential') code = exitCode(reason.exit);
  else if (reason.kind === 'app') code = exitCode(reason.exit);
  else code = appExit ? exitCode(appExit) : 0;
  return code === 0 && !synced ? EXIT_SYNC_FAILED : code;
}

/** within waits for `p` at most `ms` (0: as long as it takes); `done: false` when the time ran out. */
export async function within<T>(p: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  if (ms <= 0) return { done: true, value: await p };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ done: false }>((resolve) => (timer = setTimeout(() => resolve({ done: false }), ms)));
  try {
    return await Promise.race([p.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
