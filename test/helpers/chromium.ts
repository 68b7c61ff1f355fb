/**
 * Debian's Chromium driven by playwright-core (no browser downloads here). In CI the browser tests must
 * run, so a missing browser fails them there instead of skipping.
 */
import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether browser tests run on this machine (always in CI). */
export const browserTestsRun = existsSync(CHROMIUM) || process.env.CI !== undefined;

if (!browserTestsRun) {
  console.warn(
    `[browser] skipping: ${CHROMIUM} is absent (apt-get install -y chromium); CI installs it and runs these`,
  );
}

/** Headless Chromium with a fresh profile and no background traffic (this machine has no network). */
export function launchChromium(
  userDataDir: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...options,
  });
}
