/** addr: the metrics listen address in Go's host:port form. */
import { describe, expect, it } from 'vitest';
import { formatListenAddr, parseListenAddr } from '../../src/config/addr.js';
import { parseConfigText } from '../../src/config/load.js';

describe('parseListenAddr', () => {
  it('reads :PORT, HOST:PORT and [IPv6]:PORT', () => {
    expect(parseListenAddr(':9090')).toEqual({ port: 9090 });
    expect(parseListenAddr('127.0.0.1:9090')).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(parseListenAddr('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListenAddr('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    expect(formatListenAddr({ host: '::1', port: 9090 })).toBe('[::1]:9090');
    expect(formatListenAddr({ port: 9090 })).toBe(':9090');
  });

  it('refuses anything else, naming the value', () => {
    for (const bad of ['9090', 'host', ':', ':http', ':65536', '::1:9090', 'a b:1', ' :9090']) {
      expect(() => parseListenAddr(bad), bad).toThrow(`invalid address ${JSON.stringify(bad)}: want HOST:PORT or :PORT`);
    }
  });

  it('is checked with the config: one line naming the key and the value', () => {
    expect(parseConfigText('addr: ":9090"\ndbs: []\n').addr).toBe(':9090');
    expect(() => parseConfigText('addr: "9090"\ndbs: []\n', { file: 'c.yml' })).toThrow('c.yml: addr: invalid address "9090": want HOST:PORT or :PORT');
  });
});
