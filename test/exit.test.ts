import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * script is a Node program that ends with exitProcess(code): its 'exit' listener prints,
 * and Node's own exit path (process.reallyExit, which joins V8's threads and can deadlock
 * on Node 24 and 26) prints if it is ever taken.
 */
function script(code: number): string {
  const exitJs = pathToFileURL(path.join(ROOT, 'dist/exit.js')).href;
  return [
    `import { exitProcess } from ${JSON.stringify(exitJs)};`,
    `const real = process.reallyExit;`,
    `process.reallyExit = (c) => { process.stdout.write('node exit path\\n'); real.call(process, c); };`,
    `process.on('exit', (c) => process.stdout.write('exit listener ' + c + ' ' + process.exitCode + '\\n'));`,
    `setInterval(() => {}, 1000);`,
    `exitProcess(${code});`,
  ].join('\n');
}

describe('exitProcess', () => {
  it.each([0, 7, 143])('runs the exit listeners, then ends with %i through the addon, not Node’s exit path', async (code) => {
    const res = await execa(process.execPath, ['--input-type=module', '-e', script(code)], { reject: false, timeout: 30_000 });
    expect(res.exitCode).toBe(code);
    expect(res.stdout).toBe(`exit listener ${code} ${code}`);
  });
});
