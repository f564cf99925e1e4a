// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven
// by playwright-core, with the flags that keep it quiet on a closed network
// (without them it keeps trying hosts it cannot reach), and a fresh profile.

import { type BrowserContext, chromium } from "playwright-core";

const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser with its profile in `profile` (a new, empty folder). */
export function launchChromium(profile: string, viewport?: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args: flags, ...(viewport ? { viewport } : {}) });
}
