/** pool: a fixed number of workers taking jobs in order, and promises settled from outside. */

/** Deferred is a promise with its resolve and reject exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** deferred returns a Deferred whose rejection is never reported as unhandled (someone may not be waiting yet). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * runPool runs `jobs` in order on `n` workers. The first failure stops the taking of new
 * jobs and is passed to `onFail` at once (to abort the jobs still running); the returned
 * promise settles only when every worker has stopped, rejecting with that first failure.
 */
export async function runPool(jobs: (() => Promise<void>)[], n: number, onFail: (err: unknown) => void): Promise<void> {
  let next = 0;
  let failed = false;
  let first: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < jobs.length) {
      const job = jobs[next++];
      try {
        await job();
      } catch (err) {
        if (!failed) {
          failed = true;
          first = err;
          onFail(err);
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, jobs.length)) }, worker));
  if (failed) throw first;
}
