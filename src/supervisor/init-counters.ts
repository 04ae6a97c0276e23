/**
 * init-counters: what the init counts from its first instant for its `/metrics`
 * (init-endpoints.ts, loaded only when the config has an `addr:`).
 */

/** RestoreRecord is one database restored at boot. */
export interface RestoreRecord {
  db: string;
  ms: number;
  bytes: number;
}

/** InitCounters are what the init counts for `/metrics`. */
export class InitCounters {
  /** restarts counts each service's restarts (the replicator's as `replicate`). */
  readonly restarts = new Map<string, number>();
  /** restores are the databases restored at boot, in the order they finished. */
  readonly restores: RestoreRecord[] = [];

  /** restarted counts one restart of `service`. */
  restarted(service: string): void {
    this.restarts.set(service, (this.restarts.get(service) ?? 0) + 1);
  }
}
