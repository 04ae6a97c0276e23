/**
 * browser: a real headless Chromium for the status page tests — Debian's `chromium`
 * (apt-get install chromium) driven by playwright-core, which downloads no browser. Each
 * launch gets a fresh profile in a temp dir. Where chromium is missing the tests skip,
 * printing why; under CI=true they fail (tools.ts).
 */
import { chromium, type BrowserContext } from 'playwright-core';
import { findOnPath, needTool } from './tools.js';
import { tmpDir } from './tmp.js';

/** CHROMIUM_ARGS keep the browser quiet and self-contained: no sandbox (containers, root), no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** needChromium returns true (skip) when Debian's chromium is not on PATH, after printing why (failing under CI=true). */
export function needChromium(): boolean {
  return needTool('chromium');
}

/** launchChromium starts headless Chromium with a fresh profile; close the context when done. */
export async function launchChromium(): Promise<BrowserContext> {
  const executablePath = findOnPath('chromium');
  if (!executablePath) throw new Error('chromium not found on PATH (apt-get install chromium)');
  return chromium.launchPersistentContext(tmpDir('lifeboat-chromium-'), {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}
