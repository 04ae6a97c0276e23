import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * probe runs keepYoungGenerationSmall in a fresh Node with `nodeArgs` and `nodeOptions`,
 * then allocates, and prints whether it set the flag (node:v8 loaded) and how large the
 * young generation's spaces grew (V8's new_space, in MB).
 */
async function probe(nodeArgs: string[], nodeOptions = ''): Promise<{ setFlag: boolean; newSpaceMB: number; stderr: string }> {
  const heapJs = pathToFileURL(path.join(ROOT, 'dist/heap.js')).href;
  const code = [
    `import { keepYoungGenerationSmall } from ${JSON.stringify(heapJs)};`,
    `keepYoungGenerationSmall();`,
    `const setFlag = process.moduleLoadList.includes('NativeModule v8');`,
    `let keep = [];`,
    `for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 5e4) keep = []; }`,
    `const { getHeapSpaceStatistics } = await import('node:v8');`,
    `const ns = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');`,
    `console.log(JSON.stringify({ setFlag, newSpaceMB: ns.space_size / 1048576 }));`,
  ].join('\n');
  const res = await execa(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], { env: { NODE_OPTIONS: nodeOptions }, reject: false, timeout: 60_000 });
  expect(res.exitCode, res.stderr).toBe(0);
  return { ...(JSON.parse(res.stdout) as { setFlag: boolean; newSpaceMB: number }), stderr: res.stderr };
}

describe('keepYoungGenerationSmall', () => {
  it('keeps the young generation at its first size, and V8 knows the flag (nothing on stderr)', async () => {
    const [kept, grown] = await Promise.all([probe([]), probe(['--semi-space-growth-factor=2'])]);
    expect(kept).toMatchObject({ setFlag: true, stderr: '' });
    expect(grown.setFlag).toBe(false);
    expect(kept.newSpaceMB).toBeLessThan(grown.newSpaceMB);
  });

  it('leaves a young generation that node’s command line or NODE_OPTIONS sized alone', async () => {
    expect((await probe(['--max-semi-space-size=1'])).setFlag).toBe(false);
    expect((await probe([], '--max-semi-space-size=1')).setFlag).toBe(false);
    expect((await probe(['--max_semi_space_size=4'])).setFlag).toBe(false);
  });
});
