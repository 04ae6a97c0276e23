/**
 * scratch: one buffer shared by every encoder and decoder in the process. Compressing or
 * decoding a block is synchronous and copies its result out before returning, so no two
 * users ever hold it at once; sharing it saves a block-sized allocation per stream.
 */

/** The buffer grows in steps of GROW bytes (it ends at most one block plus the 64 KB window). */
const GROW = 65536;
let shared = new Uint8Array(0);

/** scratch returns the shared buffer, at least n bytes long; its contents are undefined and valid until the next call. */
export function scratch(n: number): Uint8Array {
  if (shared.length < n) shared = new Uint8Array(Math.ceil(n / GROW) * GROW);
  return shared;
}
