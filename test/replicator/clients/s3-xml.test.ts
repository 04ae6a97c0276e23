import { describe, expect, test } from 'vitest';
import { completeBody, deleteBody, parseDeleteFailures, parseErrorDoc, parseListPage, parseUploadId, xmlDecode, xmlEscape } from '../../../src/replicator/clients/s3-xml.js';

describe('s3-xml', () => {
  test('a ListObjectsV2 page: objects with size and time, common prefixes, the continuation token; entities decoded', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>db/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>
<Contents><Key>db/a&amp;b&#x20;c&#233;</Key><LastModified>2026-12-07T18:09:59.123Z</LastModified><ETag>&quot;x&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>db/two</Key><LastModified>2026-12-07T18:10:00.000Z</LastModified><Size>0</Size></Contents>
<CommonPrefixes><Prefix>db/generations/0123456789abcdef/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>db/x&lt;y/</Prefix></CommonPrefixes>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>`;
    expect(parseListPage(xml)).toEqual({
      objects: [
        { key: 'db/a&b cé', size: 1234, lastModified: new Date('2026-12-07T18:09:59.123Z') },
        { key: 'db/two', size: 0, lastModified: new Date('2026-12-07T18:10:00.000Z') },
      ],
      prefixes: ['db/generations/0123456789abcdef/', 'db/x<y/'],
      nextToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
    });
  });

  test('a last page has no token; an empty one lists nothing', () => {
    const last = '<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size><LastModified>2026-01-01T00:00:00Z</LastModified></Contents><NextContinuationToken>ignored</NextContinuationToken></ListBucketResult>';
    expect(parseListPage(last).nextToken).toBeUndefined();
    expect(parseListPage('<ListBucketResult><IsTruncated>false</IsTruncated><Prefix/></ListBucketResult>')).toEqual({ objects: [], prefixes: [] });
  });

  test('an error document, a foreign body, an upload id, the failures of a DeleteObjects', () => {
    expect(parseErrorDoc('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a</Key></Error>')).toEqual({
      code: 'NoSuchKey',
      message: 'The specified key does not exist.',
    });
    expect(parseErrorDoc('<html>bad gateway</html>')).toEqual({});
    expect(parseErrorDoc('')).toEqual({});
    expect(parseUploadId('<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE&amp;1</UploadId></InitiateMultipartUploadResult>')).toBe('VXBsb2FkIElE&1');
    expect(parseDeleteFailures('<DeleteResult><Deleted><Key>ok</Key></Deleted><Error><Key>db/k</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>')).toEqual([
      { key: 'db/k', code: 'AccessDenied', message: 'Access Denied' },
    ]);
    expect(parseDeleteFailures('<DeleteResult/>')).toEqual([]);
  });

  test('request bodies escape keys and ETags', () => {
    expect(deleteBody(['a&b', "c<d>'e\""])).toContain("<Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c&lt;d&gt;&apos;e&quot;</Key></Object></Delete>");
    expect(completeBody(['"e1"', '"e2"'])).toContain('<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>');
    expect(xmlDecode(xmlEscape(`&<>"' plain`))).toBe(`&<>"' plain`);
  });
});
