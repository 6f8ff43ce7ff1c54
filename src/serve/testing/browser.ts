/** Test helper: Debian's Chromium through playwright-core (never a browser download), headless. */
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { PROJECT_ROOT } from "../../paths.ts";

export const CHROMIUM = process.env.ARCHLAB_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = fs.existsSync(CHROMIUM);
/** Where browser tests leave their screenshots (gitignored). */
export const ARTIFACTS = path.join(PROJECT_ROOT, "artifacts", "browser");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
