/**
 * s3-body: prepares an upload body. A stream is read up to one multipart part: if it ends
 * there it becomes plain bytes (one PutObject with Content-Length, which can be retried);
 * otherwise the bytes read so far and the rest of the stream go to a multipart upload.
 */
import { Readable } from 'node:stream';
import type { WriteBody } from '../replica-client.js';

/** PART_SIZE is the multipart part size and the largest body sent as one PutObject from a stream. */
export const PART_SIZE = 8 * 1024 * 1024;

/** PreparedBody is whole bytes, or a stream too large for one part whose size is known once it ends. */
export type PreparedBody = { bytes: Uint8Array } | { stream: Readable; size: () => number };

/**
 * prepareBody reads a stream body up to `limit` bytes; whole bytes pass through. The
 * returned stream replays the bytes read, then the rest of the source; destroying it
 * destroys the source.
 */
export async function prepareBody(body: WriteBody, limit: number = PART_SIZE): Promise<PreparedBody> {
  if (body instanceof Uint8Array) return { bytes: body };
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const r = await it.next();
    if (r.done) return { bytes: Buffer.concat(head, size) };
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    head.push(chunk);
    size += chunk.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield* head.splice(0);
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        size += chunk.length;
        yield chunk;
      }
    } finally {
      await it.return?.();
    }
  }
  return { stream: Readable.from(replay(), { objectMode: false }), size: () => size };
}
