// Screenshots of each page of `archlab serve` for the README: `npx tsx scripts/ui-screenshots.ts ARCHIVE [OUT_DIR]`
// (default docs/screenshots). Drives Debian's Chromium headless through playwright-core.
import fs from "node:fs";
import path from "node:path";
import { launchChromium } from "../src/serve/testing/browser.ts";
import { startServer } from "../src/serve/server.ts";

const [archive, out = "docs/screenshots"] = process.argv.slice(2);
if (!archive) {
  console.error("usage: npx tsx scripts/ui-screenshots.ts ARCHIVE [OUT_DIR]");
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const server = await startServer({ archive, port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const ids = [...server.view.rows.rows.values()].filter((r) => r.parentId && r.fitness !== null).sort((a, b) => b.fitness! - a.fitness!);
  const best = ids[0]?.id ?? [...server.view.rows.rows.keys()][0]!;
  const campaign = (await server.view.archive()).campaigns().at(-1)?.id ?? "";
  const pages: [string, string, string, ((p: typeof page) => Promise<void>)?][] = [
    ["leaderboard", "#/", "leaderboard"],
    ["candidate", `#/e/${best}`, "e"],
    ["candidate-curves", `#/e/${best}`, "e", (p) => p.locator("h2", { hasText: "Loss curves" }).evaluate((el) => el.scrollIntoView())],
    ["lineage", `#/lineage/${best}`, "lineage"],
    ["campaign", `#/campaign/${campaign}`, "campaign"],
    ["compare", `#/compare/${ids.slice(0, 3).map((r) => r.id).join(",")}`, "compare"],
  ];
  for (const [name, hash, ready, before] of pages) {
    await page.goto(`${server.url}/${hash}`);
    await page.waitForFunction((n) => document.body.dataset.ready === n, ready);
    await page.waitForTimeout(200);
    if (before) await before(page);
    await page.screenshot({ path: path.join(out, `${name}.png`) });
    console.log(path.join(out, `${name}.png`));
  }
} finally {
  await browser.close();
  await server.close();
}
