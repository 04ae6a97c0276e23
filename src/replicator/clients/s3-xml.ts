/**
 * s3-xml: the few S3 XML documents the native client reads and writes — a
 * ListObjectsV2 page, an error, a multipart upload's id and completion, a DeleteObjects
 * request and its errors. S3 answers flat, well-formed XML; this reads elements by name
 * and decodes the five entities and character references, nothing more.
 */

/** ListedObject is one `<Contents>` entry of a listing. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** ListPage is one ListObjectsV2 page. */
export interface ListPage {
  objects: ListedObject[];
  prefixes: string[];
  /** nextToken continues the listing; undefined on the last page. */
  nextToken?: string;
}

/** S3ErrorDoc is an `<Error>` document's code and message. */
export interface S3ErrorDoc {
  code?: string;
  message?: string;
}

/** DeleteFailure is one `<Error>` of a DeleteObjects answer. */
export interface DeleteFailure {
  key?: string;
  code?: string;
  message?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** xmlDecode turns entities and character references back into text. */
export function xmlDecode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e] ?? m;
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** xmlEscape makes text safe inside an element. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`);
}

/** elements returns the inner XML of every `<name>…</name>` in `xml`, in order (not nested in one another). */
function elements(xml: string, name: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<${name}(?:\\s[^>]*)?(/?)>`, 'g');
  const close = `</${name}>`;
  for (let m = open.exec(xml); m; m = open.exec(xml)) {
    if (m[1] === '/') {
      out.push('');
      continue;
    }
    const start = m.index + m[0].length;
    const end = xml.indexOf(close, start);
    if (end < 0) break;
    out.push(xml.slice(start, end));
    open.lastIndex = end + close.length;
  }
  return out;
}

/** text returns the decoded text of the first `<name>` in `xml`, or undefined. */
function text(xml: string, name: string): string | undefined {
  const inner = elements(xml, name)[0];
  return inner === undefined ? undefined : xmlDecode(inner);
}

/** parseListPage reads a ListObjectsV2 result. */
export function parseListPage(xml: string): ListPage {
  const objects = elements(xml, 'Contents').map((c) => ({
    key: text(c, 'Key') ?? '',
    size: Number(text(c, 'Size') ?? 0),
    lastModified: new Date(text(c, 'LastModified') ?? 0),
  }));
  const prefixes = elements(xml, 'CommonPrefixes').flatMap((p) => {
    const prefix = text(p, 'Prefix');
    return prefix === undefined ? [] : [prefix];
  });
  const truncated = text(xml, 'IsTruncated') === 'true';
  const nextToken = truncated ? text(xml, 'NextContinuationToken') : undefined;
  return { objects, prefixes, ...(nextToken ? { nextToken } : {}) };
}

/** parseErrorDoc reads an `<Error>` document; an empty or foreign body gives an empty result. */
export function parseErrorDoc(xml: string): S3ErrorDoc {
  const inner = elements(xml, 'Error')[0];
  if (inner === undefined) return {};
  return { code: text(inner, 'Code'), message: text(inner, 'Message') };
}

/** parseUploadId reads the UploadId of an InitiateMultipartUpload result. */
export function parseUploadId(xml: string): string | undefined {
  return text(xml, 'UploadId');
}

/** parseDeleteFailures reads the `<Error>` entries of a DeleteObjects result. */
export function parseDeleteFailures(xml: string): DeleteFailure[] {
  const inner = elements(xml, 'DeleteResult')[0] ?? xml;
  return elements(inner, 'Error').map((e) => ({ key: text(e, 'Key'), code: text(e, 'Code'), message: text(e, 'Message') }));
}

/** deleteBody is a quiet DeleteObjects request for `keys`. */
export function deleteBody(keys: string[]): string {
  const objects = keys.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${objects}</Delete>`;
}

/** completeBody is a CompleteMultipartUpload request naming each part's number and ETag. */
export function completeBody(etags: string[]): string {
  const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(etag)}</ETag></Part>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`;
}
