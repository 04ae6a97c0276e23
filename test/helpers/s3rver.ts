/**
 * s3rver: a real S3 server for tests — s3rver 3.7.1 in a child process
 * (`s3rver-server.mjs`) on 127.0.0.1, a random free port and a temp data dir, over HTTP or
 * HTTPS with a self-signed certificate made by the `openssl` CLI. It records every request
 * so tests can count them, accepts any access key id, and can inject S3 errors.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { tmpDir } from './tmp.js';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-server.mjs');

/** RequestLog is one request the server received. */
export interface RequestLog {
  method: string;
  bucket: string;
  key: string;
  query: Record<string, string>;
  /** accessKeyId is the key id the request was signed with (from Authorization's `Credential=`). */
  accessKeyId?: string;
  /** securityToken is the request's `x-amz-security-token` (a session token), if any. */
  securityToken?: string;
}

/** Fault makes the next `count` requests (of `method`, if given) fail with `status` and S3 error `code`. */
export interface Fault {
  count: number;
  status: number;
  code: string;
  method?: string;
}

/** S3rverOptions: `https` serves TLS with a fresh self-signed certificate; `fixPrefixes: false` runs s3rver's store unpatched. */
export interface S3rverOptions {
  https?: boolean;
  fixPrefixes?: boolean;
}

/** S3rver is a running test server. */
export interface S3rver {
  endpoint: string;
  port: number;
  /** dir is the server's data directory: one folder per bucket, objects as s3rver stores them. */
  dir: string;
  /** bucket creates a bucket (directly in the data dir: no request is logged). */
  bucket(name: string): Promise<void>;
  /** requests returns the requests received since the start or the last resetRequests(). */
  requests(): Promise<RequestLog[]>;
  resetRequests(): void;
  /** failNext injects S3 errors into the next requests, replacing a pending fault (`count: 0` clears). */
  failNext(fault: Fault): Promise<void>;
  stop(): Promise<void>;
}

/** selfSignedCert writes a key and a certificate for 127.0.0.1 into `dir`. */
export function selfSignedCert(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { key, cert };
}

/** startS3rver starts a server; call `stop()` when done. */
export async function startS3rver(opts: S3rverOptions = {}): Promise<S3rver> {
  const base = tmpDir('lifeboat-s3rver-');
  const dir = path.join(base, 'data');
  const requestLog = path.join(base, 'requests.jsonl');
  fs.mkdirSync(dir);
  fs.writeFileSync(requestLog, '');
  const tls = opts.https ? selfSignedCert(base) : {};
  const args = { dir, requestLog, address: '127.0.0.1', fixPrefixes: opts.fixPrefixes ?? true, ...tls };
  const child = spawn(process.execPath, ['--openssl-legacy-provider', ENTRY, JSON.stringify(args)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await readPort(child);
  const endpoint = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  let offset = 0;
  return {
    endpoint,
    port,
    dir,
    bucket: async (name) => {
      fs.mkdirSync(path.join(dir, name), { recursive: true });
    },
    requests: async () => parseLog(fs.readFileSync(requestLog).subarray(offset).toString('utf8')),
    resetRequests: () => {
      offset = fs.statSync(requestLog).size;
    },
    failNext: (fault) => post(endpoint, '/__lifeboat/fail', JSON.stringify(fault)),
    stop: () => stopChild(child),
  };
}

function parseLog(text: string): RequestLog[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as RequestLog);
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`s3rver exited with code ${code} before listening`));
    child.once('exit', onExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      child.off('exit', onExit);
      child.stdout!.resume();
      resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function post(endpoint: string, p: string, body: string): Promise<void> {
  const url = new URL(p, endpoint);
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`s3rver control: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * useS3rver starts s3rver with `bucket` made before the tests of the calling file (or
 * describe block), hands it to `use`, and stops it after them.
 */
export function useS3rver(bucket: string, use: (s3: S3rver) => void, timeoutMs?: number): void {
  let s3: S3rver | undefined;
  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.bucket(bucket);
    use(s3);
  }, timeoutMs);
  afterAll(async () => {
    await s3?.stop();
  });
}
