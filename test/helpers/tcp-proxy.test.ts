import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startProxy } from './tcp-proxy.js';

/** echo answers every chunk with itself. */
let echo: net.Server;
let echoPort: number;
beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function roundTrip(s: net.Socket, text: string): Promise<{ reply: string; ms: number }> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (b: Buffer) => {
      got += b.toString();
      if (got.length >= text.length) {
        s.off('data', onData);
        resolve({ reply: got, ms: Date.now() - start });
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.write(text);
  });
}

describe('tcp-proxy', () => {
  test('forwards bytes in order with the latency added each way, and counts connections', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: echoPort }, { latencyMs: 100 });
    const s = await connect(proxy.port);
    const { reply, ms } = await roundTrip(s, 'hello world');
    expect(reply).toBe('hello world');
    expect(ms).toBeGreaterThanOrEqual(195);
    proxy.setLatency(0);
    const fast = await roundTrip(s, 'again');
    // Without the latency: under the 200 ms a round trip took with it, on a loaded machine too.
    expect(fast.ms).toBeLessThan(190);
    const big = 'x'.repeat(3_000_000);
    expect((await roundTrip(s, big)).reply.length).toBe(big.length);
    await connect(proxy.port).then((s2) => s2.destroy());
    expect(proxy.connections()).toBe(2);
    s.destroy();
    await proxy.close();
  });

  test('blackhole swallows bytes of open and new connections without a reset, until restore', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: echoPort });
    const open = await connect(proxy.port);
    expect((await roundTrip(open, 'before')).reply).toBe('before');
    let heard = 0;
    let resets = 0;
    open.on('data', (b: Buffer) => (heard += b.length));
    open.on('error', () => resets++);
    proxy.blackhole();
    open.write('into the void');
    const late = await connect(proxy.port);
    late.on('data', (b: Buffer) => (heard += b.length));
    late.on('error', () => resets++);
    late.write('also lost');
    proxy.restore();
    // A fresh connection's round trip goes after the swallowed writes: had they been
    // forwarded, their echoes would have come back first.
    const fresh = await connect(proxy.port);
    expect((await roundTrip(fresh, 'after')).reply).toBe('after');
    expect(heard).toBe(0);
    expect(resets).toBe(0);
    expect(open.destroyed || late.destroyed).toBe(false);
    for (const s of [open, late, fresh]) s.destroy();
    await proxy.close();
  });

  test('cut drops open connections and resets new ones until restore', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: echoPort });
    const s = await connect(proxy.port);
    const closed = new Promise((r) => s.once('close', r));
    s.on('error', () => {});
    proxy.cut();
    await closed;
    const refused = await connect(proxy.port).then(
      (s2) => new Promise<string>((r) => { s2.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')); s2.once('close', () => r('closed')); }),
      (e: NodeJS.ErrnoException) => e.code ?? '',
    );
    expect(['ECONNRESET', 'closed']).toContain(refused);
    expect(proxy.connections()).toBe(1);
    proxy.restore();
    const s3 = await connect(proxy.port);
    expect((await roundTrip(s3, 'back')).reply).toBe('back');
    expect(proxy.connections()).toBe(2);
    s3.destroy();
    await proxy.close();
  });

  test('resetAfter resets the open connections once, midway, and still accepts new ones', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: echoPort });
    const s = await connect(proxy.port);
    s.on('error', () => {});
    let got = 0;
    s.on('data', (b: Buffer) => (got += b.length));
    const closed = new Promise((r) => s.once('close', r));
    proxy.resetAfter(100_000);
    s.write('y'.repeat(1_000_000));
    await closed;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(1_000_000);
    expect(proxy.resets()).toBe(1);
    const s2 = await connect(proxy.port);
    expect((await roundTrip(s2, 'x'.repeat(300_000))).reply.length).toBe(300_000);
    expect(proxy.resets()).toBe(1);
    s2.destroy();
    await proxy.close();
  });
});
