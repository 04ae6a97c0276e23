/**
 * tcp-proxy: a real TCP proxy on 127.0.0.1 for fault and latency tests. It forwards to
 * `target`, delays every chunk by `latencyMs` in each direction (order kept), counts the
 * connections it forwards, and can cut every connection and refuse new ones until restored,
 * blackhole them (bytes vanish, nothing is refused or reset: the client's timeouts must
 * notice), or reset the open ones once, midway through what the target sends.
 */
import net from 'node:net';

/** ProxyOptions: `latencyMs` is added to each direction of every connection. */
export interface ProxyOptions {
  latencyMs?: number;
}

/** Proxy is a running proxy. */
export interface Proxy {
  port: number;
  /** connections is how many client connections were accepted and forwarded. */
  connections(): number;
  setLatency(ms: number): void;
  /** cut resets every open connection and resets new ones until restore(). */
  cut(): void;
  /** blackhole silently drops every byte of the open connections and of new ones until restore(); the dropped connections stay hung. */
  blackhole(): void;
  restore(): void;
  /** resetAfter resets every open connection once `bytes` more bytes have gone from the target to clients; new ones are still accepted. */
  resetAfter(bytes: number): void;
  /** resets is how many times resetAfter fired. */
  resets(): number;
  close(): Promise<void>;
}

/** HIGH_WATER pauses a source while this many bytes wait for their delay. */
const HIGH_WATER = 1 << 20;

/** startProxy listens on a random free port of 127.0.0.1. */
export async function startProxy(target: { host: string; port: number }, opts: ProxyOptions = {}): Promise<Proxy> {
  let latency = opts.latencyMs ?? 0;
  let accepted = 0;
  let isCut = false;
  let isBlack = false;
  const hung = new Set<net.Socket>();
  let resetIn: number | undefined;
  let resets = 0;
  const open = new Set<net.Socket>();
  const sent = (n: number): void => {
    if (resetIn === undefined || (resetIn -= n) > 0) return;
    resetIn = undefined;
    resets++;
    for (const s of open) s.resetAndDestroy();
  };

  const server = net.createServer((client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    if (isBlack) {
      hung.add(client);
      client.on('error', () => client.destroy());
      client.on('close', () => hung.delete(client));
      client.resume();
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const dropped = () => hung.has(client);
    relay(client, upstream, () => latency, undefined, dropped);
    relay(upstream, client, () => latency, sent, dropped);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    connections: () => accepted,
    setLatency: (ms) => {
      latency = ms;
    },
    cut: () => {
      isCut = true;
      for (const s of open) s.resetAndDestroy();
    },
    blackhole: () => {
      isBlack = true;
      for (const s of open) hung.add(s);
    },
    restore: () => {
      isCut = false;
      isBlack = false;
    },
    resetAfter: (bytes) => {
      resetIn = bytes;
    },
    resets: () => resets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...open, ...hung]) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * relay copies `from` to `to`, each chunk (and the end) delivered `latency()` ms after it
 * arrived; `onSent` counts the bytes; while `dropped()`, chunks and the end vanish.
 */
function relay(from: net.Socket, to: net.Socket, latency: () => number, onSent?: (n: number) => void, dropped: () => boolean = () => false): void {
  const queue: { due: number; chunk?: Buffer }[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;

  const pump = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === undefined) {
        to.end();
        continue;
      }
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
      onSent?.(chunk.length);
    }
    if (queued < HIGH_WATER && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(pump, queue[0].due - now);
  };
  const push = (chunk?: Buffer) => {
    if (dropped()) return;
    queue.push({ due: Date.now() + latency(), chunk });
    if (chunk) queued += chunk.length;
    if (queued >= HIGH_WATER) from.pause();
    if (!timer) timer = setTimeout(pump, Math.max(0, queue[0].due - Date.now()));
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push());
  from.on('close', () => {
    if (queue.length === 0 && timer) clearTimeout(timer);
  });
  to.on('close', () => {
    if (timer) clearTimeout(timer);
    queue.length = 0;
  });
}
