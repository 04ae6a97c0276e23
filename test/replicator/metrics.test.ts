/** metrics: label values are escaped as the Prometheus text format wants. */
import { describe, expect, it } from 'vitest';
import { renderLabels, renderMetrics } from '../../src/replicator/metrics.js';

describe('renderLabels', () => {
  it('escapes backslash, double quote and newline in values', () => {
    expect(renderLabels({ db: '/data/a"b\\c\nd.db', name: 's3' })).toBe('db="/data/a\\"b\\\\c\\nd.db",name="s3"');
  });
});

describe('renderMetrics', () => {
  it('with no database: every family with its HELP and TYPE, no samples', () => {
    const text = renderMetrics([]);
    expect(text).toContain('# TYPE litestream_db_size gauge\n');
    expect(text).toContain('# TYPE litestream_sync_count counter\n');
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
  });
});
