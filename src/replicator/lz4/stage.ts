/**
 * stage: runs an incremental codec (a Stage) as a stream Transform that honours
 * back-pressure between output blocks, or over one buffer at once.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Stage is an incremental codec: feed() a chunk, pull next() until null, then end() once. */
export interface Stage {
  /** feed hands over the next input chunk; the stage keeps no reference once next() has returned null. */
  feed(chunk: Uint8Array): void;
  /** next returns the next output piece, or null when the fed chunk is used up. */
  next(): Uint8Array | null;
  /** end returns the remaining output after the last chunk; it throws if the input was incomplete. */
  end(): Uint8Array[];
}

/**
 * StageTransform is a Transform around a Stage. When push() reports a full readable
 * buffer it stops between blocks and resumes from _read(), so one large input chunk
 * (or a very compressible one) never piles up more than a block of output.
 */
export class StageTransform extends Transform {
  readonly #stage: Stage;
  #paused: TransformCallback | null = null;

  constructor(stage: Stage) {
    super();
    this.#stage = stage;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#stage.feed(chunk);
    this.#drain(callback);
  }

  override _flush(callback: TransformCallback): void {
    try {
      for (const piece of this.#stage.end()) this.push(piece);
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback();
  }

  /**
   * _read resumes a paused drain. Once it runs to the end, Transform may have deferred the
   * write callback (its readable buffer was over the high-water mark when the drain
   * finished); the default _read releases it. Without that, a consumer that reads in
   * paused mode ('readable', async iteration) would wait forever: no push happened in
   * this _read, so the stream never asks again.
   */
  override _read(size: number): void {
    const callback = this.#paused;
    this.#paused = null;
    if (callback !== null) this.#drain(callback);
    if (this.#paused === null) super._read(size);
  }

  #drain(callback: TransformCallback): void {
    try {
      for (let piece = this.#stage.next(); piece !== null; piece = this.#stage.next()) {
        if (!this.push(piece)) {
          this.#paused = callback;
          return;
        }
      }
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback();
  }
}

/** runStage feeds all of `data` through a stage and returns the whole output. */
export function runStage(stage: Stage, data: Uint8Array): Buffer {
  const out: Uint8Array[] = [];
  stage.feed(data);
  for (let piece = stage.next(); piece !== null; piece = stage.next()) out.push(piece);
  out.push(...stage.end());
  return Buffer.concat(out);
}
