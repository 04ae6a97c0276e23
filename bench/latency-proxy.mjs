#!/usr/bin/env node
/**
 * bench/latency-proxy: `node bench/latency-proxy.mjs TARGET_PORT LATENCY_MS` forwards a
 * random port of 127.0.0.1 to 127.0.0.1:TARGET_PORT, delaying every chunk by LATENCY_MS in
 * each direction (order kept; a source pauses while 1 MiB waits), as an object store's
 * round trip would. Prints its port, then `conn` per accepted connection; exits when its
 * stdin closes.
 */
import net from 'node:net';

const [target, ms] = process.argv.slice(2).map(Number);
const HIGH_WATER = 1 << 20;

/** delayed copies src to dst, each chunk `ms` later. */
function delayed(src, dst) {
  let queued = 0;
  src.on('data', (chunk) => {
    queued += chunk.length;
    if (queued > HIGH_WATER) src.pause();
    setTimeout(() => {
      if (!dst.destroyed) dst.write(chunk);
      queued -= chunk.length;
      if (queued <= HIGH_WATER) src.resume();
    }, ms);
  });
  src.on('end', () => setTimeout(() => dst.end(), ms));
  src.on('error', () => dst.destroy());
  src.on('close', () => setTimeout(() => dst.destroy(), ms + 5));
}

const server = net.createServer((client) => {
  process.stdout.write('conn\n');
  const upstream = net.connect(target, '127.0.0.1');
  delayed(client, upstream);
  delayed(upstream, client);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
