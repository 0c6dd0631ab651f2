// What every browser script here shares: Debian's chromium started the way
// this machine allows (no background networking, a fresh profile), and the
// `check` that prints each passed check and stops at the first failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Throws naming `message` unless `condition`; prints `ok: message` otherwise. */
export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok: ${message}`);
}

/**
 * Starts headless chromium with a fresh profile; `options` are added to
 * playwright's launch options (e.g. a viewport). Returns the context, its
 * first page (default timeout set) and `close`, which the caller awaits at
 * the end: it closes the browser and removes the profile. `shots` (a
 * folder) is created for screenshots.
 */
export async function openChromium(shots, options = {}) {
  mkdirSync(shots, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'wflink-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
  context.setDefaultTimeout(30_000);
  const page = context.pages()[0] || (await context.newPage());
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}
