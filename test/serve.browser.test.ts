// The archive browser in a real headless Chromium (Debian's, via playwright-core): leaderboard -> candidate ->
// diff -> lineage on a seeded archive carrying the XSS probe set; a live campaign whose progress appears without
// a reload; a note and a veto made in the UI that the running campaign obeys. Screenshots go to artifacts/browser/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../src/archive/archive.ts";
import type { Experiment } from "../src/contracts/experiment.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { ARTIFACTS, CHROMIUM, hasChromium, launchChromium } from "../src/serve/testing/browser.ts";
import { buildXssArchive, XSS_ID, XSS_PROBES } from "../src/serve/testing/xssArchive.ts";
import { startServer, type RunningServer } from "../src/serve/server.ts";

if (!hasChromium) console.warn(`SKIPPED: browser tests need Chromium at ${CHROMIUM} (apt-get install chromium)`);

let browser: Browser;
beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (hasChromium) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function openPage(server: RunningServer): Promise<{ page: Page; dialogs: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (d) => { dialogs.push(d.message()); void d.dismiss(); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => { if (!r.url().startsWith(server.url)) errors.push(`off-site request ${r.url()}`); });
  await page.goto(`${server.url}/#token=${server.token}`);
  return { page, dialogs, errors };
}
const ready = (page: Page, name: string) => page.waitForFunction((n) => document.body.dataset.ready === n, name, { timeout: 15_000 });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

describe.skipIf(!hasChromium)("archive browser in Chromium", () => {
  it("leaderboard -> candidate -> diff -> lineage -> compare, with every probe string shown as text", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-ui-")), "archive");
    await buildXssArchive(dir);
    const server = await startServer({ archive: dir, port: 0 });
    try {
      const { page, dialogs, errors } = await openPage(server);
      await ready(page, "leaderboard");
      await expect.poll(() => page.locator("#leaderboard tbody tr").count()).toBe(5);
      await expect.poll(() => page.locator(`tr[data-id="${XSS_ID}"] td`).nth(2).textContent()).toContain(XSS_PROBES[1]);
      await shot(page, "leaderboard");

      await page.locator('tr[data-id="e000002"]').click();
      await ready(page, "e");
      expect(await page.locator("#name").textContent()).toBe("delta-x2");
      expect(await page.locator("pre.diff .add").allTextContents()).toContain("+        return x * 2");
      expect(await page.locator("pre.diff .del").allTextContents()).toContain("-        return x");
      await page.locator("#diff-heading").scrollIntoViewIfNeeded();
      await shot(page, "candidate-diff");
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, "candidate");

      await page.goto(`${server.url}/#/e/${XSS_ID}`);
      await ready(page, "e");
      const motivation = await page.locator('[data-text="motivation"] .text').textContent();
      for (const probe of XSS_PROBES) expect(motivation).toContain(probe);
      expect(await page.locator("#app img, #app iframe, #app svg[onload], #app script").count()).toBe(0);
      expect(await page.locator("pre.code").textContent()).toContain(XSS_PROBES[0]);
      await shot(page, "candidate-xss");

      await page.getByText("in the lineage tree").click();
      await ready(page, "lineage");
      await expect.poll(() => page.locator(`#tree li[data-id="${XSS_ID}"]`).count()).toBe(1); // the path to it expanded
      await page.locator('#tree li[data-id="e000001"] > .toggle').click(); // collapse the root
      await expect.poll(() => page.locator('#tree li[data-id="e000002"]').count()).toBe(0);
      await page.locator('#tree li[data-id="e000001"] > .toggle').click(); // and open it again, one level
      await expect.poll(() => page.locator('#tree li[data-id="e000003"]').count()).toBe(1);
      await page.locator('#tree li[data-id="e000002"] > .toggle').click();
      await expect.poll(() => page.locator('#tree li[data-id="e000004"]').count()).toBe(1);
      await shot(page, "lineage");

      await page.goto(`${server.url}/#/compare/e000001,e000002,e000003`);
      await ready(page, "compare");
      expect(await page.locator("#compare th").count()).toBe(4);
      await shot(page, "compare");

      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  // Tiny-preset runs last seconds, so on a loaded machine the page can miss a window it waits for: one retry
  // (a real break fails both tries).
  it("shows a live campaign's progress without a reload; a note and a veto made in the UI are obeyed", { timeout: 300_000, retry: 1 }, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-ui-live-"));
    const dir = path.join(tmp, "archive");
    const campaign = execa("node", [path.join(PROJECT_ROOT, "bin", "archlab.js"), "run", "--archive", dir, "--preset", "tiny", "--budget", "3", "--parallel", "1"], { reject: false, cwd: tmp });
    let server: RunningServer | null = null;
    try {
      for (let i = 0; i < 300 && !fs.existsSync(path.join(dir, "db.json")); i++) await new Promise((r) => setTimeout(r, 100));
      server = await startServer({ archive: dir, port: 0 });
      const { page, errors } = await openPage(server);
      await page.goto(`${server.url}/#/campaign`);
      await ready(page, "campaign");
      await page.evaluate(() => { (window as unknown as { __sameDocument: boolean }).__sameDocument = true; });

      // A campaign note with a rule, typed into the UI before the seed finishes (seeds are exempt; the next proposal is not).
      await page.locator('textarea[aria-label="campaign note"]').fill("prefer update=gated_delta");
      await page.locator("#campaign-note").click();
      await page.waitForFunction(() => document.querySelector("#steering-log")?.textContent?.includes("prefer update=gated_delta"), null, { timeout: 10_000 });

      // The seed trains: its step count moves on the page, pushed by the server.
      // (a step before the last, so a later one must follow)
      const firstStep = await page.waitForFunction(() => {
        const m = /^(\d+)\/(\d+)$/.exec(document.querySelector("#in-flight .step")?.textContent ?? "");
        return m && Number(m[1]) < Number(m[2]) ? m[0] : null;
      }, null, { timeout: 120_000 });
      const seen = await firstStep.jsonValue();
      await page.waitForFunction((s) => { const t = document.querySelector("#in-flight .step")?.textContent ?? ""; return /^\d+\/\d+$/.test(t) && t !== s; }, seen, { timeout: 120_000 });
      await shot(page, "campaign-live");

      // The next candidate trains; veto it from its row.
      await page.waitForFunction(() => {
        const row = document.querySelector('#in-flight tr[data-id="e000002"]');
        return row && /training/.test(row.textContent ?? "");
      }, null, { timeout: 120_000 });
      await shot(page, "campaign-training");
      await page.locator('#in-flight tr[data-id="e000002"] button').click();
      await page.waitForFunction(() => document.querySelector("#recent")?.textContent?.includes("vetoed by ui"), null, { timeout: 30_000 });
      await shot(page, "campaign-vetoed");
      expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true); // never reloaded
      expect(errors).toEqual([]);

      const out = await campaign;
      expect(out.exitCode, out.stderr).toBe(0);
      const archive = await Archive.open(dir, { mode: "read" });
      try {
        const [seed, vetoed, third] = archive.experiments() as [Experiment, Experiment, Experiment];
        expect(seed.status).toBe("done");
        expect(vetoed.genome?.update).toBe("gated_delta"); // the note's rule steered the offline proposer
        expect(await archive.readText(vetoed.id, "steering")).toMatch(/note s\w+ by ui \(browser\).*: prefer update=gated_delta/);
        expect(vetoed.status).toBe("rejected");
        expect(vetoed.reason).toMatch(/^vetoed by ui \(browser\) at .*: vetoed from the campaign page$/);
        expect(vetoed.stages.proxy).toBeUndefined();
        expect(third.parentId).toBe(seed.id); // never the vetoed one
      } finally {
        await archive.close();
      }
    } finally {
      campaign.kill("SIGKILL");
      await campaign;
      await server?.close();
    }
  });
});
