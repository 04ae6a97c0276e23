/**
 * throttle: run an async job at most once per interval, on the leading edge, one at a time.
 * A trigger after a quiet period runs at once; triggers while a run is in flight or inside
 * the interval are batched into one later run. A failed run retries with capped backoff.
 */

/** ThrottleOptions configure a Throttle. */
export interface ThrottleOptions {
  /** interval is the minimum time between two run starts (0 = no limit). */
  interval: number;
  /** onError reports a failed run; the run is retried after the returned backoff. */
  onError: (err: unknown, attempt: number) => void;
  /** onRecover reports a run that succeeded after `failures` failed ones. */
  onRecover?: (failures: number) => void;
  /**
   * beforeDeferredRun is called when a run that waited (for the interval, a backoff, or
   * a run in flight, with an interval set) is about to start, so the caller can bring the
   * job's input up to date first. Triggers it makes are part of that run. It must not
   * throw.
   */
  beforeDeferredRun?: () => void;
  minBackoff?: number;
  maxBackoff?: number;
}

/** Throttle schedules runs of one job. */
export class Throttle {
  private readonly job: () => Promise<void>;
  private readonly opts: Required<ThrottleOptions>;
  private running: Promise<void> | undefined;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private lastStart = -Infinity;
  private failures = 0;
  private stopped = false;

  constructor(job: () => Promise<void>, opts: ThrottleOptions) {
    this.job = job;
    this.opts = { minBackoff: 1_000, maxBackoff: 30_000, onRecover: () => {}, beforeDeferredRun: () => {}, ...opts };
  }

  /** trigger asks for a run: now if allowed, else as soon as the interval and the current run allow. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running || this.timer) {
      this.pending = true;
      return;
    }
    const wait = this.lastStart + this.opts.interval - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => this.fire(), wait);
      return;
    }
    this.start();
  }

  /** idle resolves when no run is in flight (a run started meanwhile is awaited too). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** stop cancels scheduled runs and waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
    await this.idle();
  }

  private fire(): void {
    this.opts.beforeDeferredRun();
    if (this.stopped) return;
    this.timer = undefined;
    this.pending = false;
    this.start();
  }

  private start(): void {
    this.lastStart = Date.now();
    this.running = this.job().then(
      () => {
        if (this.failures > 0) this.opts.onRecover(this.failures);
        this.failures = 0;
      },
      (err: unknown) => {
        this.failures++;
        this.opts.onError(err, this.failures);
      },
    );
    void this.running.then(() => this.finish());
  }

  private finish(): void {
    this.running = undefined;
    if (this.stopped) return;
    if (this.failures > 0) {
      const delay = Math.min(this.opts.maxBackoff, this.opts.minBackoff * 2 ** (this.failures - 1));
      this.pending = false;
      this.timer = setTimeout(() => this.fire(), delay);
      return;
    }
    if (this.pending && this.opts.interval > 0) {
      this.timer = setTimeout(() => this.fire(), Math.max(0, this.lastStart + this.opts.interval - Date.now()));
    } else if (this.pending) {
      this.pending = false;
      this.trigger();
    }
  }
}
