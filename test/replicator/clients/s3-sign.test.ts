/**
 * SigV4 signing of the native S3 client, checked against AWS's published example and
 * against the AWS SDK itself: the SDK signs a request (its handler captures it instead of
 * sending it), and ours must give the same path, host and Authorization for it.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { planClient } from '../../../src/replicator/clients/s3-config.js';
import { originOf } from '../../../src/replicator/clients/s3-native.js';
import { EMPTY_SHA256, amzDate, canonicalQuery, encodeKeyPath, sha256Hex, signRequest } from '../../../src/replicator/clients/s3-sign.js';

const EXAMPLE_KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

/** Captured is what the SDK would have sent. */
interface Captured {
  method: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

/** AnyCommand is one of the commands the cases sign. */
type AnyCommand = GetObjectCommand | ListObjectsV2Command | PutObjectCommand | DeleteObjectsCommand | UploadPartCommand;

/** sdkSigned has the SDK sign `command` for a client built with `options` and returns the request it would send. */
async function sdkSigned(options: ConstructorParameters<typeof S3Client>[0], command: AnyCommand): Promise<Captured> {
  let captured: Captured | undefined;
  const s3 = new S3Client({
    ...options,
    credentials: { ...EXAMPLE_KEYS, sessionToken: 'session/token+1=' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: Captured) => {
        captured = { ...req, headers: { ...req.headers } };
        throw new Error('captured');
      },
    },
  });
  await s3.send(command as never).catch((err: Error) => {
    if (err.message !== 'captured') throw err;
  });
  s3.destroy();
  return captured!;
}

describe('SigV4', () => {
  test("AWS's example (GET /test.txt with a Range header) gives its published signature", () => {
    const headers = signRequest(
      { method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/test.txt', query: [], headers: { range: 'bytes=0-9' }, payloadHash: EMPTY_SHA256, region: 'us-east-1', date: new Date('2013-05-24T00:00:00Z') },
      EXAMPLE_KEYS,
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    expect(headers['x-amz-date']).toBe('20130524T000000Z');
  });

  test('encodes keys and queries as SigV4 wants: unreserved characters kept, slashes kept in paths, sorted parameters', () => {
    expect(encodeKeyPath("a b/c+d/é!'()*~._-")).toBe('a%20b/c%2Bd/%C3%A9%21%27%28%29%2A~._-');
    expect(canonicalQuery([['prefix', 'db/generations/'], ['list-type', '2'], ['delimiter', '/'], ['uploads', '']])).toBe(
      'delimiter=%2F&list-type=2&prefix=db%2Fgenerations%2F&uploads=',
    );
    expect(amzDate(new Date('2026-12-07T18:09:59.123Z'))).toBe('20261207T180959Z');
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
  });

  const cases: { what: string; options: ConstructorParameters<typeof S3Client>[0]; command: AnyCommand; method: string; key?: string; query: [string, string][]; body?: Uint8Array; headers?: Record<string, string> }[] = [
    {
      what: 'a GET, virtual-hosted on AWS',
      options: { region: 'eu-west-3' },
      command: new GetObjectCommand({ Bucket: 'my-bucket', Key: 'app/generations/0123456789abcdef/wal/00000001_00004080.wal.lz4' }),
      method: 'GET',
      key: 'app/generations/0123456789abcdef/wal/00000001_00004080.wal.lz4',
      query: [],
    },
    {
      what: 'a listing, path-style on an endpoint with a port and a path',
      options: { region: 'auto', endpoint: 'http://127.0.0.1:9000/base', forcePathStyle: true },
      command: new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'db with space/generations/', Delimiter: '/', ContinuationToken: 'tok/en+=' }),
      method: 'GET',
      query: [['list-type', '2'], ['prefix', 'db with space/generations/'], ['delimiter', '/'], ['continuation-token', 'tok/en+=']],
    },
    {
      what: 'a conditional PUT of bytes with an odd key, virtual-hosted on an endpoint',
      options: { region: 'us-east-1', endpoint: 'https://fly.storage.tigris.dev', forcePathStyle: false },
      command: new PutObjectCommand({ Bucket: 'tigris-bkt', Key: "odd key/ü+!'()*", Body: Buffer.from('segment bytes'), ContentLength: 13, IfNoneMatch: '*' }),
      method: 'PUT',
      key: "odd key/ü+!'()*",
      query: [],
      body: Buffer.from('segment bytes'),
      headers: { 'if-none-match': '*' },
    },
    {
      what: 'a listing with an empty prefix, virtual-hosted on AWS in a cn- region',
      options: { region: 'cn-north-1' },
      command: new ListObjectsV2Command({ Bucket: 'bkt-cn', Prefix: '' }),
      method: 'GET',
      query: [['list-type', '2'], ['prefix', '']],
    },
    {
      what: 'a DeleteObjects, path-style',
      options: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
      command: new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'db/a' }], Quiet: true } }),
      method: 'POST',
      query: [['delete', '']],
    },
    {
      what: 'an UploadPart of a key with an empty segment',
      options: { region: 'eu-central-1' },
      command: new UploadPartCommand({ Bucket: 'my-bucket', Key: 'db//generations/x', PartNumber: 2, UploadId: 'up/id+=', Body: Buffer.from('part'), ContentLength: 4 }),
      method: 'PUT',
      key: 'db//generations/x',
      query: [['partNumber', '2'], ['uploadId', 'up/id+=']],
    },
  ];

  for (const c of cases) {
    test(`signs like the AWS SDK: ${c.what}`, async () => {
      const sdk = await sdkSigned(c.options, c.command);
      const plan = planClient({ bucket: (c.command.input as { Bucket: string }).Bucket, path: '', endpoint: (c.options as { endpoint?: string }).endpoint, forcePathStyle: (c.options as { forcePathStyle?: boolean }).forcePathStyle, region: (c.options as { region: string }).region });
      const origin = originOf(plan, (c.command.input as { Bucket: string }).Bucket, (c.options as { region: string }).region);
      const path = `${origin.root}/${c.key === undefined ? '' : encodeKeyPath(c.key)}`;
      expect(path).toBe(sdk.path);
      expect(origin.hostname).toBe(sdk.hostname);
      expect(origin.host).toBe(sdk.headers.host);
      expect(canonicalQuery(c.query)).toBe(canonicalQuery(Object.entries(sdk.query).filter(([k]) => k !== 'x-id').map(([k, v]) => [k, String(v ?? '')])));
      // The SDK signs more headers than we send (its user agent, content-type…): sign the same set.
      const signedNames = /SignedHeaders=([^,]+)/.exec(sdk.headers.authorization)![1].split(';');
      const extra = Object.fromEntries(signedNames.filter((n) => !['host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'].includes(n)).map((n) => [n, sdk.headers[n]]));
      for (const [n, v] of Object.entries(c.headers ?? {})) expect(extra[n]).toBe(v);
      const date = new Date(sdk.headers['x-amz-date'].replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
      const ours = signRequest(
        { method: c.method, host: origin.host, path, query: Object.entries(sdk.query).map(([k, v]) => [k, String(v ?? '')]), headers: extra, payloadHash: sdk.headers['x-amz-content-sha256'], region: (c.options as { region: string }).region, date },
        { ...EXAMPLE_KEYS, sessionToken: 'session/token+1=' },
      );
      expect(ours.authorization).toBe(sdk.headers.authorization);
      expect(ours['x-amz-security-token']).toBe(sdk.headers['x-amz-security-token']);
      if (c.body) expect(sdk.headers['x-amz-content-sha256'] === 'UNSIGNED-PAYLOAD' || sdk.headers['x-amz-content-sha256'] === sha256Hex(c.body)).toBe(true);
    });
  }
});
