// `notify:` end to end: real tiny campaigns tell a webhook receiver on 127.0.0.1 (started here) and a shell
// command about the budget stop, failing runs and timeouts, with the summary; `archlab report` prints the same.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotifyMessage } from "../src/report/notify.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { startReceiver, type Receiver } from "./support/webhook.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
let receiver: Receiver<NotifyMessage>;
let url: string;
let received: NotifyMessage[];
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-notify-"));
  receiver = await startReceiver<NotifyMessage>();
  ({ url, received } = receiver);
});
afterAll(() => receiver.close());

function campaign(name: string, extra: string[]): string {
  const file = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(file, [`name: ${name}`, `archive: ${path.join(tmp, name)}`, ...extra, ""].join("\n"));
  return file;
}

describe("notify and report", () => {
  it("sends the budget stop with the summary to the webhook and the command; report prints the same summary", async () => {
    const out = path.join(tmp, "command.json");
    const file = campaign("nightly", [
      "budget: {experiments: 1}", "stages: {proxy: {preset: tiny}}",
      `notify: {webhook: "${url}", command: "cat > ${out}; echo $ARCHLAB_EVENT >> ${out}.event"}`,
    ]);
    const run = await execa("node", [CLI, "run", file], { reject: false, cwd: tmp });
    expect(run.exitCode, run.stderr).toBe(0);
    const stop = received.find((m) => m.campaign.startsWith("nightly-"))!;
    expect(stop).toMatchObject({ schema: "archlab.notify/1", event: "budget_stop" });
    expect(stop.message).toMatch(/stopped: budget of 1 experiments reached/);
    expect(stop.summary.experiments.total).toBe(1);
    expect(stop.summary.campaigns.map((c) => c.id)).toEqual([stop.campaign]);
    const doneCount = stop.summary.experiments.done;
    expect(stop.summary.best).toHaveLength(doneCount);
    // Noise-scaled fitness: the seed is the baseline layer, so its fitness sits near 0, either side.
    if (doneCount) expect(Number.isFinite(stop.summary.best[0]!.fitness)).toBe(true);
    expect(stop.summary.costs.cpuHours).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(out, "utf8"))).toEqual(stop);
    expect(fs.readFileSync(`${out}.event`, "utf8")).toBe("budget_stop\n");

    const json = await execa("node", [CLI, "report", "--since", "1h", "--format", "json", "--archive", path.join(tmp, "nightly")]);
    const report = JSON.parse(json.stdout);
    expect(report.experiments).toEqual(stop.summary.experiments);
    expect(report.best.map((b: { id: string }) => b.id)).toEqual(stop.summary.best.map((b) => b.id));
    const md = await execa("node", [CLI, "report", "--archive", path.join(tmp, "nightly")]);
    expect(md.stdout).toMatch(/^# archlab report\n\nAll time to .*\n\n\*\*Experiments:\*\* 1 \(1 done/);
    const bad = await execa("node", [CLI, "report", "--since", "yesterday-ish", "--archive", path.join(tmp, "nightly")], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe('archlab: --since "yesterday-ish": a duration such as 24h, 30m, 7d, or a date');
  }, 300_000);

  it("reports runs that time out and a failure spike", async () => {
    // First the seed and its baseline with the stage's own timeout (a baseline that cannot train stops a campaign
    // before any candidate runs), then candidates whose proxy runs overstay a 0.2 s timeout, on the same archive.
    const first = await execa("node", [CLI, "run", campaign("doomed", ["budget: {experiments: 1}", "stages: {proxy: {preset: tiny}}"])], { reject: false, cwd: tmp });
    expect(first.exitCode, first.stderr).toBe(0);
    const file = campaign("doomed", [
      "budget: {experiments: 3}", "stages: {proxy: {preset: tiny, timeout_s: 0.2}}",
      `notify: {webhook: "${url}", error_window: 2}`,
    ]);
    const run = await execa("node", [CLI, "run", file], { reject: false, cwd: tmp });
    expect(run.exitCode, run.stderr).toBe(0);
    const mine = received.filter((m) => m.campaign.startsWith("doomed-"));
    const events = mine.map((m) => m.event);
    expect(events).toContain("run_stuck");
    expect(events).toContain("error_spike");
    // Webhook posts are concurrent: they can arrive out of order, so find the stop rather than take the last one.
    const stop = mine.find((m) => /budget_stop|campaign_end/.test(m.event));
    expect(stop, events.join(", ")).toBeDefined();
    expect(mine.find((m) => m.event === "run_stuck")!.message).toMatch(/the proxy run ended past its timeout/);
    expect(mine.find((m) => m.event === "error_spike")!.message).toMatch(/^\d of the last \d experiments failed/);
    expect(stop!.summary.failures.length).toBeGreaterThan(0);
  }, 300_000);
});
