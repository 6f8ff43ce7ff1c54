// run_stuck while the run is still running: a real Notifier fed the campaign's events, delivering to a webhook
// receiver on 127.0.0.1 started here (the summary read from a real, empty archive).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../archive/archive.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import type { Experiment } from "../contracts/experiment.ts";
import { startReceiver, type Receiver } from "../../test/support/webhook.ts";
import { NotifyConfig, Notifier, overdueRuns, type NotifyMessage } from "./notify.ts";

let receiver: Receiver<NotifyMessage>;
let url: string;
let archiveDir: string;
let received: NotifyMessage[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  archiveDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-notify-unit-")), "archive");
  await (await Archive.open(archiveDir, { mode: "write" })).close();
  receiver = await startReceiver<NotifyMessage>();
  ({ url, received } = receiver);
});
afterAll(() => receiver.close());

describe("run_stuck", () => {
  it("overdueRuns: past timeout + grace and not yet told", () => {
    const runs = new Map([
      ["a", { stage: "proxy", name: "", startedAt: 0, timeoutS: 10, told: false }],
      ["b", { stage: "proxy", name: "", startedAt: 0, timeoutS: 10, told: true }],
      ["c", { stage: "proxy", name: "", startedAt: 5_000, timeoutS: 10, told: false }],
    ]);
    expect(overdueRuns(runs, 15_001, 5)).toEqual(["a"]);
    expect(overdueRuns(runs, 15_000, 5)).toEqual([]);
    expect(overdueRuns(runs, 20_001, 5)).toEqual(["a", "c"]);
  });

  it("fires while the run is still running, once; a run that ends in time, or whose stage moved on, is not reported", async () => {
    const notifier = new Notifier(NotifyConfig.parse({ webhook: url, stuck_after_s: 0.3 }), archiveDir, () => {}, 50);
    notifier.onEvent({ type: "start", campaign: { id: "c1" } });
    notifier.onEvent({ type: "stage", id: "e000001", name: "slow-one", stage: "training" });
    notifier.onEvent({ type: "progress", id: "e000001", event: { event: "start", stage: "proxy", timeout_s: 0.2 } });
    notifier.onEvent({ type: "stage", id: "e000002", name: "quick-one", stage: "training" });
    notifier.onEvent({ type: "progress", id: "e000002", event: { event: "start", stage: "proxy", timeout_s: 0.2 } });
    notifier.onEvent({ type: "progress", id: "e000002", event: { event: "done" } }); // ended within its limit
    notifier.onEvent({ type: "stage", id: "e000003", name: "moved-on", stage: "training" });
    notifier.onEvent({ type: "progress", id: "e000003", event: { event: "start", stage: "proxy", timeout_s: 0.2 } });
    notifier.onEvent({ type: "stage", id: "e000003", name: "moved-on", stage: "analysing" }); // that run is over
    for (let i = 0; i < 100 && !received.length; i++) await sleep(50);
    await sleep(500); // a second check would have told it again
    const stuck = received.filter((m) => m.event === "run_stuck");
    expect(stuck).toHaveLength(1);
    expect(stuck[0]!.message).toMatch(/^e000001 slow-one: the proxy run is still running \d+ s after it started, past its 0.2 s timeout$/);
    expect(stuck[0]!.summary.experiments.total).toBe(0);
    // Its end on the timeout is not told a second time.
    const exp = syntheticExperiment(1, null, { status: "failed" });
    const ended = { ...exp, id: "e000001", stages: { proxy: { ...exp.stages!.proxy!, status: "timeout" } } } as unknown as Experiment;
    notifier.onEvent({ type: "finished", experiment: ended });
    await notifier.settle();
    expect(received.filter((m) => m.event === "run_stuck")).toHaveLength(1);
  });
});
