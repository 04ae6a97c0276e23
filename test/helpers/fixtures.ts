/** fixtures: unpack the replicas written by Litestream v0.3.11 (test/fixtures/litestream-v0.3, mtimes kept). */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from './cli.js';
import { tmpDir } from './tmp.js';

/** FIXTURES_DIR holds the `*.tar.gz` replicas and their README. */
export const FIXTURES_DIR = path.join(ROOT, 'test/fixtures/litestream-v0.3');

/** unpackFixture extracts `<name>.tar.gz` into a temp dir; returns the dir with `replica/` and `expected.json`. */
export function unpackFixture(name: string): { dir: string; replica: string; expected: any } {
  const dir = tmpDir(`lifeboat-fixture-${name}-`);
  execFileSync('tar', ['xzf', path.join(FIXTURES_DIR, `${name}.tar.gz`), '-C', dir]);
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  return { dir, replica: path.join(dir, 'replica'), expected };
}
