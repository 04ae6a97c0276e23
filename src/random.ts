/**
 * random: random identifiers (generation names, writer ids, temporary file names) read from
 * the kernel's /dev/urandom — without node:crypto, whose load costs a long-running replicator
 * about 3.4 MB resident (docs/benchmarks.md) for a few bytes now and then.
 */
import { fs } from './builtin.js';

let fd: number | undefined;

/** randomHex returns `bytes` random bytes from /dev/urandom, as lower-case hex. */
export function randomHex(bytes: number): string {
  fd ??= fs.openSync('/dev/urandom', 'r');
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) got += fs.readSync(fd, buf, got, bytes - got, null);
  return buf.toString('hex');
}
