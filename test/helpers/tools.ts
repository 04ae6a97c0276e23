/**
 * tools: command-line tools that some tests run besides Node (the `lz4` CLI, say). Where
 * one is missing those tests skip, printing why; under CI=true a missing tool is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';

/** onPath tells whether an executable `name` is on PATH. */
export function onPath(name: string): boolean {
  return findOnPath(name) !== undefined;
}

/** findOnPath is the path of the executable `name` first on PATH, undefined when none. */
export function findOnPath(name: string): string | undefined {
  return (process.env.PATH ?? '').split(':').map((d) => (d === '' ? '' : path.join(d, name))).find((f) => f !== '' && fs.existsSync(f));
}

/**
 * needTool returns true (skip) when `name` is missing, after printing why; under CI=true it
 * also registers a failing test that names the tool and the package to install.
 */
export function needTool(name: string, pkg = name): boolean {
  if (onPath(name)) return false;
  const reason = `${name} not found on PATH (apt-get install ${pkg})`;
  console.log(`skipped: tests that run ${name}: ${reason}`);
  if (process.env.CI === 'true') {
    describe(`prerequisite ${name}`, () => {
      it(`has ${name} (CI=true)`, () => {
        throw new Error(`cannot run the ${name} tests: ${reason}`);
      });
    });
  }
  return true;
}
