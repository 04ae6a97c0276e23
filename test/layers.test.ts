/**
 * The dependency direction of src/: cli → supervisor → replicator → config → the shared
 * modules at the top of src/ (and src/process/). A module imports from its own layer or a
 * lower one, never a higher one: the replicator never imports the supervisor, config never
 * imports the replicator. Static imports, `import type` and dynamic `import()` alike.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

const LAYERS: Record<string, number> = { config: 1, replicator: 2, supervisor: 3, cli: 4 };

/** layerOf is a source file's layer: 0 for src/*.ts and src/process/, else its folder's. */
function layerOf(file: string): number {
  const parts = path.relative(SRC, file).split(path.sep);
  if (parts.length === 1 || parts[0] === 'process') return 0;
  const layer = LAYERS[parts[0]];
  if (layer === undefined) throw new Error(`src/${parts[0]}/ has no layer: add it to LAYERS`);
  return layer;
}

/** upwardImports lists `file -> target` for every relative import of `text` (the file at `file`) into a higher layer. */
function upwardImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), m[1].replace(/\.js$/, '.ts'));
    if (layerOf(target) > layerOf(file)) found.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`);
  }
  return found;
}

describe('the layers of src/', () => {
  it('finds an upward import, static, type-only or dynamic (the check itself)', () => {
    const file = path.join(SRC, 'replicator/example.ts');
    const text = [
      "import { a } from '../supervisor/a.js';",
      "import type { B } from '../cli/b.js';",
      "const c = await import('../supervisor/c.js');",
      "import { d } from '../config/d.js';",
      "import { e } from './e.js';",
    ].join('\n');
    expect(upwardImports(file, text)).toEqual([
      'replicator/example.ts -> supervisor/a.ts',
      'replicator/example.ts -> cli/b.ts',
      'replicator/example.ts -> supervisor/c.ts',
    ]);
  });

  it('has no module importing from a higher layer', () => {
    const files = fs
      .readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(SRC, f));
    expect(files.length).toBeGreaterThan(100);
    const upward = files.flatMap((f) => upwardImports(f, fs.readFileSync(f, 'utf8')));
    expect(upward).toEqual([]);
  });
});
