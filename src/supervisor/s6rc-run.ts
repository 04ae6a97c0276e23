/**
 * s6rc-run: bring an s6-overlay v3 tree (s6rc-dir.ts) up in dependency order and down in
 * reverse, as s6-rc does. Up: each atom starts once all its dependencies are up — a oneshot
 * is up when its `up` exited 0 (bounded by `timeout-up`), a longrun once started, or once
 * ready when it has a `notification-fd` (bounded by `timeout-up`). An atom whose dependency
 * failed is not started. Down: each atom once everything that depends on it is down — a
 * longrun stopped as the init stops services, a oneshot that came up runs its `down`
 * (bounded by `timeout-down`, or without one by LIFEBOAT_SERVICES_GRACETIME: the final sync
 * comes after the tree's stop and must not wait for ever).
 */
import { nowMs } from '../clock.js';
import type { Logger } from '../log.js';
import { failed, runOneshot } from './oneshot.js';
import type { S6rcAtom, S6rcTreeDef } from './s6rc-dir.js';
import { dependantsOf } from './s6rc-graph.js';
import { startService, superviseService } from './service-logger.js';
import type { ServiceView } from './service-rows.js';
import type { Service, ServiceOptions } from './service.js';
import { describeExit } from './signals.js';

/** S6rcRunOptions are what the tree takes from the init. */
export interface S6rcRunOptions {
  log: Logger;
  prefix: boolean;
  /**
   * downGraceMs bounds a oneshot's `down` without `timeout-down` (s6-rc: no limit), so that
   * the final sync after the tree's stop always comes (LIFEBOAT_SERVICES_GRACETIME).
   */
  downGraceMs: number;
  service: ServiceOptions;
  /** abort: the init is stopping; nothing more starts, a running `up` gets SIGTERM. */
  abort: AbortSignal;
  /** stopService stops one longrun as the init stops its services. */
  stopService: (s: Service) => Promise<void>;
  /** onService is told of each longrun as it is made (restart counters, essential …). */
  onService?: (s: Service) => void;
}

/** S6rcTree runs one tree: `start` once, then `stop` once. */
export class S6rcTree {
  /** services are the longruns started so far (the init's status lists them). */
  readonly services: Service[] = [];
  private readonly up = new Map<string, Promise<boolean>>();
  private readonly cameUp = new Set<string>();
  private readonly byName = new Map<string, Service>();
  /** oneshots are the oneshots run so far, as the status rows read them. */
  private readonly oneshots = new Map<string, { name: string; pid: undefined; state: ServiceView['state'] }>();

  constructor(
    private readonly tree: S6rcTreeDef,
    private readonly opts: S6rcRunOptions,
  ) {}

  /** names are the tree's longruns and oneshots, in start order (the status lists them all). */
  names(): string[] {
    return [...this.tree.plan.order];
  }

  /** views are the longruns and the oneshots run so far, for the status rows (a oneshot has no pid). */
  views(): ServiceView[] {
    return [...this.services, ...this.oneshots.values()];
  }

  /** start brings every atom up in dependency order; resolves with what failed (undefined: all up). */
  async start(): Promise<string | undefined> {
    const { order, dependsOn } = this.tree.plan;
    if (order.length > 0) this.opts.log.info('starting s6-rc services', { dir: this.tree.dir, services: order.join(',') });
    for (const name of order) {
      const deps = dependsOn.get(name) ?? [];
      this.up.set(name, this.afterDeps(name, deps.map((d) => this.up.get(d)!)));
    }
    const results = await Promise.all(order.map(async (name) => ((await this.up.get(name)) ? undefined : name)));
    const failures = results.filter((n): n is string => n !== undefined);
    return failures.length === 0 ? undefined : `s6-rc services failed to come up: ${failures.join(', ')}`;
  }

  /** stop brings every atom that came up down, dependants first. */
  async stop(): Promise<void> {
    const dependants = dependantsOf(this.tree.plan);
    const down = new Map<string, Promise<void>>();
    for (const name of [...this.tree.plan.order].reverse()) {
      const after = (dependants.get(name) ?? []).map((d) => down.get(d)!);
      down.set(name, Promise.all(after).then(() => this.bringDown(this.tree.atoms.get(name)!)));
    }
    await Promise.all(down.values());
  }

  private async afterDeps(name: string, deps: Promise<boolean>[]): Promise<boolean> {
    const ok = (await Promise.all(deps)).every(Boolean);
    if (this.opts.abort.aborted) return false;
    if (!ok) {
      this.opts.log.warn('s6-rc service not started: a dependency failed', { service: name });
      return false;
    }
    const atom = this.tree.atoms.get(name)!;
    return atom.kind === 'oneshot' ? this.oneshotUp(atom) : this.longrunUp(atom);
  }

  private async oneshotUp(atom: Extract<S6rcAtom, { kind: 'oneshot' }>): Promise<boolean> {
    const { log, prefix, abort, service } = this.opts;
    log.info('oneshot up', { service: atom.name });
    this.setOneshot(atom.name, { phase: 'starting', startedAt: nowMs(), unhealthy: false });
    const r = await runOneshot(atom.up.argv, { name: atom.name, prefix, abort, env: service.env, timeoutMs: atom.timeoutUp || undefined, file: atom.up.file });
    const lastExit = { code: r.code, signal: r.signal };
    this.setOneshot(atom.name, { phase: failed(r) ? 'failed' : 'up', startedAt: nowMs(), lastExit, unhealthy: false });
    if (!failed(r)) {
      this.cameUp.add(atom.name);
      return true;
    }
    const how = r.error ? { error: r.error } : describeExit(r);
    log.error('oneshot up failed', { service: atom.name, timed_out: r.timedOut || undefined, ...how });
    return false;
  }

  private async longrunUp(atom: Extract<S6rcAtom, { kind: 'longrun' }>): Promise<boolean> {
    const s = superviseService(atom.def, this.pipeOptions(atom));
    this.services.push(s);
    this.byName.set(atom.name, s);
    this.cameUp.add(atom.name);
    this.opts.onService?.(s);
    this.opts.log.info('longrun start', { service: atom.name });
    startService(s);
    if (atom.def.notificationFd === undefined) return true;
    const ready = await this.race(new Promise<boolean>((resolve) => s.once('ready', () => resolve(true))), atom.timeoutUp);
    if (ready) this.opts.log.info('longrun ready', { service: atom.name });
    else if (!this.opts.abort.aborted) this.opts.log.error('longrun not ready within timeout-up', { service: atom.name, timeout_ms: atom.timeoutUp });
    return ready;
  }

  /** pipeOptions: a consumer's stdin is a pipe; a producer's stdout goes to its consumer (started before it: a dependency). */
  private pipeOptions(atom: Extract<S6rcAtom, { kind: 'longrun' }>): ServiceOptions {
    const consumer = atom.producerFor;
    const opts: ServiceOptions = { ...this.opts.service, input: atom.consumer || undefined };
    return consumer ? { ...opts, logTo: (chunk) => this.byName.get(consumer)?.write(chunk) } : opts;
  }

  private async bringDown(atom: S6rcAtom): Promise<void> {
    if (!this.cameUp.has(atom.name)) return;
    const { log, prefix, service } = this.opts;
    if (atom.kind === 'longrun') {
      log.info('longrun stop', { service: atom.name });
      const s = this.byName.get(atom.name)!;
      const stopped = await this.race(this.opts.stopService(s).then(() => true), atom.timeoutDown, false);
      if (!stopped) log.warn('longrun not down within timeout-down: going on', { service: atom.name, timeout_ms: atom.timeoutDown });
      return;
    }
    if (!atom.down) return this.setOneshot(atom.name, { phase: 'down', unhealthy: false });
    log.info('oneshot down', { service: atom.name });
    this.setOneshot(atom.name, { phase: 'stopping', startedAt: nowMs(), unhealthy: false });
    const timeoutMs = atom.timeoutDown || Math.max(1, this.opts.downGraceMs);
    const r = await runOneshot(atom.down.argv, { name: atom.name, prefix, env: service.env, timeoutMs, file: atom.down.file });
    this.setOneshot(atom.name, { phase: 'down', lastExit: { code: r.code, signal: r.signal }, unhealthy: false });
    if (failed(r)) log.warn('oneshot down failed', { service: atom.name, timed_out: r.timedOut || undefined, ...(r.error ? { error: r.error } : describeExit(r)) });
  }

  private setOneshot(name: string, state: ServiceView['state']): void {
    this.oneshots.set(name, { name, pid: undefined, state });
  }

  /** race resolves with `p`, or false after `ms` (0: no limit) or, when `abortable`, on the init's stop. */
  private async race(p: Promise<boolean>, ms: number, abortable = true): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const { abort } = this.opts;
    const limits = [p];
    if (ms > 0) limits.push(new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms))));
    if (abortable) limits.push(new Promise((resolve) => (abort.aborted ? resolve(false) : abort.addEventListener('abort', () => resolve(false), { once: true }))));
    try {
      return await Promise.race(limits);
    } finally {
      clearTimeout(timer);
    }
  }
}
