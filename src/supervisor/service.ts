/**
 * service: one supervised service driven through the pure table in service-table.ts with
 * real processes — spawn in its own process group, output prefixed `name | `, readiness
 * from a newline on its notification fd, `finish` after every exit, one timer per phase.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { nowMs } from '../clock.js';
import type { Logger } from '../log.js';
import { outputDrained, outputEnv, outputStdio, pipeOutput, runStdio } from './output.js';
import type { Prestarted } from './prestart.js';
import { describeSpawnError } from './script.js';
import type { ServiceDef } from './service-dir.js';
import {
  initialState,
  transition,
  type CrashLoopPolicy,
  type Exit,
  type ServiceAction,
  type ServiceEvent,
  type ServicePolicy,
  type ServiceState,
} from './service-table.js';
import { describeExit, signalGroup, signalNumber } from './signals.js';

/** ServiceOptions are what a service takes from the init. */
export interface ServiceOptions {
  log: Logger;
  /** prefix: pipe output and prefix lines `name | ` (LIFEBOAT_LOG_PREFIX). */
  prefix: boolean;
  /** logTo receives the run's stdout instead of the init's output: its logger's input (`log/`). */
  logTo?: (chunk: Buffer) => void;
  /** input gives the run a stdin pipe, fed by `write` (a logger). */
  input?: boolean;
  env?: NodeJS.ProcessEnv;
  /** prestarted is this service's first run, started ahead of time (the built-in replicator). */
  prestarted?: Prestarted;
  /** crashLoop: this many deaths within the window mark the service unhealthy (LIFEBOAT_CRASH_LOOP_*). */
  crashLoop?: CrashLoopPolicy;
}

/**
 * Service runs one ServiceDef. Events: `ready` (), `restart` (delay, exit), `failed` (exit:
 * it will not be restarted), `crashLoop` (message, last stderr line: it keeps dying, now unhealthy),
 * `recovered` (), `stopped` (exit or undefined: how it answered the stop).
 */
export class Service extends EventEmitter {
  private current: ServiceState = initialState();
  private readonly policy: ServicePolicy;
  private child?: ChildProcess;
  private finishChild?: ChildProcess;
  private timer?: NodeJS.Timeout;
  private readonly queue: ServiceEvent[] = [];
  private dispatching = false;
  private stoppedPromise: Promise<Exit | undefined>;
  private resolveStopped!: (exit: Exit | undefined) => void;
  /** lastErrorLine is the last line the service wrote on stderr (the crash-loop report quotes it). */
  private lastErrorLine = '';
  /** abandoned: the shutdown went on without this service (abandon); its `finish` will not run. */
  private abandoned = false;
  /** logger is this service's `log/` service, stopped after it (service-logger.ts). */
  logger?: Service;
  private stoppedSettled = false;
  /** upDownAt is when the run last came up or went down; downReadyAt when it last went down with `finish` done (s6-svstat's times). */
  private upDownAt = nowMs();
  private downReadyAt = nowMs();
  /** startWhenDown starts the service again once it is down (s6-svc -u while it stops); a stop cancels it. */
  private startWhenDown?: () => void;
  /** paused: stopped with SIGSTOP (s6-svc -p) and not continued since. */
  private paused = false;

  constructor(
    readonly def: ServiceDef,
    private readonly opts: ServiceOptions,
  ) {
    super();
    this.policy = {
      hasFinish: def.finish !== undefined,
      notifies: def.notificationFd !== undefined,
      downSignal: def.downSignal,
      timeoutKill: def.timeoutKill,
      timeoutFinish: def.timeoutFinish,
      maxDeathTally: def.maxDeathTally,
      crashLoop: opts.crashLoop,
    };
    this.stoppedPromise = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /** times are the monotonic times s6-svstat reports: last up or down, and last down with `finish` done. */
  get times(): { upDownAt: number; downReadyAt: number; paused: boolean } {
    return { upDownAt: this.upDownAt, downReadyAt: this.downReadyAt, paused: this.paused };
  }

  /** name is the service's name (the output prefix). */
  get name(): string {
    return this.def.name;
  }

  /** pid is its last run's process id (undefined before any; the status shows it while the run lives). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** state is the current state (read-only snapshot). */
  get state(): Readonly<ServiceState> {
    return this.current;
  }

  /** start starts the service (from down, stopped or failed); one on its way down is started once down. */
  start(): void {
    const { phase, wantUp } = this.current;
    if (phase === 'stopping' || (phase === 'finishing' && !wantUp)) {
      if (this.startWhenDown) return;
      this.startWhenDown = () => {
        this.startWhenDown = undefined;
        this.start();
      };
      this.once('stopped', this.startWhenDown);
      return;
    }
    this.dispatch({ type: 'start', now: nowMs() });
  }

  /** write feeds the run's stdin (a logger's input); dropped while no run is up. */
  write(chunk: Buffer): void {
    const stdin = this.child?.stdin;
    if (stdin && stdin.writable) stdin.write(chunk);
  }

  /** abandon is for a stop that went on without the service (s6: the supervisor is gone): its `finish` will not run. */
  abandon(): void {
    this.abandoned = true;
  }

  /** leftRunning: abandoned by the stop while its `run` still lives (ended before the final sync, Init.endLeftRunning). */
  get leftRunning(): boolean {
    return this.abandoned && this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** signalRunGroup sends `sig` to the `run` process's group; false when there is none. */
  signalRunGroup(sig: NodeJS.Signals): boolean {
    return this.child?.pid !== undefined && signalGroup(this.child.pid, sig);
  }

  /** whenStopped resolves once the current stop is over (as `stop` does), without asking for one. */
  whenStopped(): Promise<Exit | undefined> {
    return this.stoppedPromise;
  }

  /** runOnce starts the service if it is down and never restarts it (s6-svc -o). */
  runOnce(): void {
    this.dispatch({ type: 'once', now: nowMs() });
  }

  /** signal sends `sig` to the running `run` process (not its group, as s6-svc); false when it is not running. */
  signal(sig: NodeJS.Signals): boolean {
    if (!isRunning(this.current.phase) || this.child?.pid === undefined) return false;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      return false;
    }
    if (sig === 'SIGSTOP') this.paused = true;
    if (sig === 'SIGCONT') this.paused = false;
    return true;
  }

  /** stop stops it: down-signal and SIGCONT, SIGKILL after timeout-kill (if any), then `finish`; resolves with how it answered. */
  stop(): Promise<Exit | undefined> {
    if (this.startWhenDown) this.off('stopped', this.startWhenDown);
    this.startWhenDown = undefined;
    if (this.stoppedSettled && this.current.phase !== 'stopped') {
      this.stoppedSettled = false;
      this.stoppedPromise = new Promise((resolve) => (this.resolveStopped = resolve));
    }
    this.dispatch({ type: 'stop', now: nowMs() });
    return this.stoppedPromise;
  }

  /** dispatch feeds one event through the table; events raised meanwhile are queued, never nested. */
  private dispatch(event: ServiceEvent): void {
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        const before = this.current.phase;
        const { state, actions } = transition(this.policy, this.current, e);
        this.current = state;
        if (state.phase !== before) this.phaseChanged(before, state.phase);
        for (const action of actions) this.perform(action);
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** phaseChanged clears the phase's timer and notes the times s6-svstat reports. */
  private phaseChanged(before: ServiceState['phase'], after: ServiceState['phase']): void {
    this.clearTimer();
    const now = nowMs();
    if (isRunning(before) !== isRunning(after)) this.upDownAt = now;
    if (!isRunning(before) && isRunning(after)) this.paused = false;
    if (!isRunning(after) && after !== 'finishing' && (isRunning(before) || before === 'finishing')) this.downReadyAt = now;
  }

  private perform(action: ServiceAction): void {
    const log = this.opts.log.child({ service: this.name });
    switch (action.type) {
      case 'spawn':
        return this.spawnRun();
      case 'ready':
        log.debug('service ready');
        return void this.emit('ready');
      case 'signal':
        return this.downSignal(action.signal);
      case 'kill':
        log.warn('service did not stop in time: killing', { timeout_ms: this.policy.timeoutKill });
        if (this.child?.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
        return;
      case 'finish':
        // Left to the final kill: the shutdown went on, nothing more is started for it.
        if (this.abandoned) return this.dispatch({ type: 'finished', now: nowMs(), code: 0 });
        return this.spawnFinish(action.exit);
      case 'killFinish':
        log.warn('finish did not end in time: killing', { timeout_ms: this.policy.timeoutFinish });
        if (this.finishChild?.pid !== undefined) signalGroup(this.finishChild.pid, 'SIGKILL');
        return;
      case 'timer':
        this.clearTimer();
        this.timer = setTimeout(() => this.dispatch({ type: 'timeout', now: nowMs() }), action.ms);
        return;
      case 'restart':
        log.info('service exited: restarting', { ...describeExit(action.exit), delay_ms: Math.round(action.delay) });
        return void this.emit('restart', action.delay, action.exit);
      case 'failed':
        log.warn('service exited: not restarting (finish exited 125)', describeExit(action.exit));
        return void this.emit('failed', action.exit);
      case 'crashLoop': {
        const message = `crash loop: ${action.deaths} exits within ${action.windowMs} ms: marked unhealthy`;
        log.error(message, { ...describeExit(action.exit), last_error: this.lastErrorLine || undefined });
        return void this.emit('crashLoop', message, this.lastErrorLine);
      }
      case 'recovered':
        log.info('service stable again: marked healthy');
        return void this.emit('recovered');
      case 'stopped':
        log.debug('service stopped', action.exit ? describeExit(action.exit) : {});
        this.stoppedSettled = true;
        this.resolveStopped(action.exit);
        return void this.emit('stopped', action.exit);
    }
  }

  /**
   * downSignal sends the down-signal, then SIGCONT (s6: a stopped process gets it). A
   * logger's stdin is closed first so it reads to the end; the signal follows LOGGER_EOF_MS
   * later if it is still running.
   */
  private downSignal(sig: NodeJS.Signals): void {
    const child = this.child;
    const send = (): void => {
      if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child.pid, sig);
      if (sig !== 'SIGCONT') signalGroup(child.pid, 'SIGCONT');
    };
    if (!this.opts.input || !child?.stdin) return send();
    child.stdin.end();
    const timer = setTimeout(send, LOGGER_EOF_MS);
    child.once('exit', () => clearTimeout(timer));
  }

  /** spawnRun starts `run` in its own process group, wiring output, readiness and exit. */
  private spawnRun(): void {
    const { def } = this;
    const child = this.opts.prestarted?.take() ?? this.spawnChild(def.command, this.stdio());
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.noteErrorLine(chunk));
    if (def.notificationFd !== undefined) {
      const notify = child.stdio[def.notificationFd];
      notify?.on('error', () => {});
      notify?.on('data', (chunk: Buffer) => {
        if (child === this.child && chunk.includes(0x0a)) this.dispatch({ type: 'ready', now: nowMs() });
      });
    }
    const onError = (err: NodeJS.ErrnoException): string => describeSpawnError(def.command[0], err, def.file ?? def.command[0], def.cwd);
    onExit(child, onError, this.opts.log.child({ service: this.name }), (exit) => this.dispatch({ type: 'exit', now: nowMs(), exit }));
  }

  /** spawnFinish runs `finish code signal name` (s6: 256 and the signal number when killed). */
  private spawnFinish(exit: Exit): void {
    const args = exit.signal ? ['256', String(signalNumber(exit.signal)), this.name] : [String(exit.code ?? 256), '0', this.name];
    const finish = this.def.finish!;
    const child = this.spawnChild([...finish.argv, ...args], outputStdio(this.opts.prefix));
    this.finishChild = child;
    const onError = (err: NodeJS.ErrnoException): string => describeSpawnError(finish.argv[0], err, finish.file, this.def.cwd);
    onExit(child, onError, this.opts.log.child({ service: this.name }), (e) => this.dispatch({ type: 'finished', now: nowMs(), code: e.code }));
  }

  private spawnChild(argv: string[], stdio: StdioOptions): ChildProcess {
    const child = spawn(argv[0], argv.slice(1), { cwd: this.def.cwd, env: outputEnv(this.opts.prefix, this.opts.env), detached: true, stdio });
    pipeOutput(child, this.name, { stdout: this.opts.logTo === undefined });
    if (this.opts.logTo) child.stdout?.on('data', this.opts.logTo);
    child.stdin?.on('error', () => {});
    return child;
  }

  /** stdio is fds 0–2 as output.ts says (stdin and stdout piped for a logger and a logged service), plus a pipe at the notification fd. */
  private stdio(): StdioOptions {
    const fd = this.def.notificationFd;
    const stdio = runStdio(this.opts.prefix, fd === undefined ? [] : [fd]) as string[];
    if (this.opts.input) stdio[0] = 'pipe';
    if (this.opts.logTo) stdio[1] = 'pipe';
    return stdio as StdioOptions;
  }

  /** noteErrorLine keeps the last complete, non-empty line of a stderr chunk (bounded). */
  private noteErrorLine(chunk: Buffer): void {
    const lines = chunk.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 0) this.lastErrorLine = lines[lines.length - 1].slice(0, 500);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** LOGGER_EOF_MS is how long a logger may take to exit on the end of its input before its down-signal. */
export const LOGGER_EOF_MS = 1_000;
/** isRunning: in these phases the `run` process lives (s6-svstat says up). */
export function isRunning(phase: ServiceState['phase']): boolean {
  return phase === 'starting' || phase === 'up' || phase === 'stopping';
}

/** onExit calls `done` once when the child exits, or with 127/126 when it could not start (logging `describe(err)`). */
function onExit(child: ChildProcess, describe: (err: NodeJS.ErrnoException) => string, log: Logger, done: (exit: Exit) => void): void {
  // Our lines about the exit come after the service's own last lines.
  child.once('exit', (code, signal) => void outputDrained(child).then(() => done({ code, signal })));
  child.on('error', (err: NodeJS.ErrnoException) => {
    if (child.pid !== undefined) return;
    log.error(`cannot start: ${describe(err)}`, { error: err.code ?? err.message });
    done({ code: err.code === 'EACCES' ? 126 : 127, signal: null });
  });
}
