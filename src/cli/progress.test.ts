// The campaign's progress view: per run in flight its stage, step/total, loss, tokens/s and ETA (pure formatting,
// a given clock); plain lines off a TTY (what CI logs and the e2e tests read); cli-progress bars on a TTY.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { syntheticExperiment } from "../archive/fixtures.ts";
import type { Experiment } from "../contracts/experiment.ts";
import type { ProgressEvent } from "../contracts/result.ts";
import { progressView } from "./progress.ts";
import { formatEta, formatRate, runLine, track, type RunView } from "./runProgress.ts";

const step = (s: number, total = 600, loss: number | null = 2.5): ProgressEvent => ({ event: "step", step: s, total_steps: total, loss, tokens: s * 4096 });

describe("run progress", () => {
  it("measures tokens/s and the ETA between the first step seen and the latest", () => {
    const view: RunView = { id: "e000012", name: "gated-silu", stage: "training" };
    track(view, { event: "start", stage: "lm" }, 0);
    expect(runLine(view)).toBe("e000012 gated-silu  training lm");
    track(view, step(20), 1_000);
    expect(runLine(view)).toBe("e000012 gated-silu  training lm  step 20/600  loss 2.5000"); // one point: no rate yet
    track(view, step(120, 600, 2.345), 11_000); // 100 steps (409,600 tokens) in 10 s
    expect(runLine(view)).toBe("e000012 gated-silu  training lm  step 120/600  loss 2.3450  41.0k tok/s  ETA 48s");
    track(view, step(140, 600, null), 13_000);
    expect(view.loss).toBeNull();
    expect(runLine(view)).toContain("loss nan");
    track(view, { event: "start", stage: "lm" }, 20_000); // the next seed's run starts afresh
    expect(runLine(view)).toBe("e000012 gated-silu  training lm");
  });

  it.each([
    [0, "0s"], [42.4, "42s"], [312, "5m12s"], [7500, "2h05m"],
  ])("formatEta(%d) = %s", (s, text) => expect(formatEta(s)).toBe(text));

  it.each([
    [950, "950"], [12_345, "12.3k"], [1_234_567, "1.2M"],
  ])("formatRate(%d) = %s", (x, text) => expect(formatRate(x)).toBe(text));
});

function stream(tty: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = tty;
  out.columns = 200;
  let text = "";
  out.on("data", (d: Buffer) => (text += d.toString()));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

const finished = (id: string): Experiment => ({ ...syntheticExperiment(1, null), id, name: "gated-silu", status: "done" }) as Experiment;

function play(view: ReturnType<typeof progressView>, clock: { t: number }) {
  view.onEvent({ type: "stage", id: "e000012", name: "gated-silu", stage: "training", slot: 0 });
  view.onEvent({ type: "progress", id: "e000012", event: { event: "start", stage: "lm" } });
  for (let s = 20; s <= 600; s += 20) {
    clock.t += 2000;
    view.onEvent({ type: "progress", id: "e000012", event: step(s) });
  }
  view.onEvent({ type: "finished", experiment: finished("e000012") });
}

describe("progressView", () => {
  it("off a TTY: the stage line, one line per tenth of the run, the finished line", () => {
    const { out, text } = stream(false);
    const clock = { t: 0 };
    const view = progressView(out, () => clock.t);
    play(view, clock);
    view.close();
    const lines = text().trim().split("\n");
    expect(lines[0]).toBe("e000012 gated-silu: training"); // what the e2e tests wait for
    const progress = lines.filter((l) => l.includes(" step "));
    expect(progress).toHaveLength(11); // tenths 0 (step 20), 1 (step 60), ... 10 (step 600)
    expect(progress[0]).toBe("e000012 gated-silu: training lm  step 20/600  loss 2.5000");
    expect(progress[1]).toBe("e000012 gated-silu: training lm  step 60/600  loss 2.5000  41.0k tok/s  ETA 54s"); // 20 steps per 2 s
    expect(lines.at(-1)).toMatch(/^e000012 gated-silu: done fitness \d\.\d{3}$/);
    expect(text()).not.toContain("\x1b[");
  });

  it("says a run stopped early with its evidence", () => {
    const { out, text } = stream(false);
    const view = progressView(out, () => 0);
    view.onEvent({ type: "stage", id: "e000003", name: "bad", stage: "training", slot: 1 });
    view.onEvent({ type: "progress", id: "e000003", event: { event: "stopped_early", step: 150, total_steps: 600, loss: 2.6, baseline_loss: 2, margin: 0.1, steps_saved: 450, seconds_saved: 324, rule: { margin: 0.1, warmup_fraction: 0.25, window: 5 } } });
    expect(text()).toContain("e000003 bad: stopped early at step 150/600: held-out loss 2.6000 vs the baseline's 2.0000 (+30.0%, margin 10%); saved 450 steps, about 5.4 min\n");
  });

  it("on a TTY: a cli-progress bar per slot with the run's line, and the footer", async () => {
    const { out, text } = stream(true);
    const clock = { t: 0 };
    const view = progressView(out, () => clock.t);
    view.onEvent({ type: "stage", id: "e000012", name: "gated-silu", stage: "training", slot: 0 });
    view.onEvent({ type: "progress", id: "e000012", event: { event: "start", stage: "lm" } });
    clock.t = 1000;
    view.onEvent({ type: "progress", id: "e000012", event: step(100) });
    clock.t = 11_000;
    view.onEvent({ type: "progress", id: "e000012", event: step(300) });
    await new Promise((r) => setTimeout(r, 250)); // cli-progress redraws on its own timer
    const drawn = text();
    expect(drawn).toMatch(/\[0\] █{10}░{10} e000012 gated-silu {2}training lm {2}step 300\/600 {2}loss 2\.5000 {2}81\.9k tok\/s {2}ETA 15s/);
    expect(drawn).toContain("0 finished · best -");
    expect(drawn.indexOf("[0]")).toBeLessThan(drawn.lastIndexOf("0 finished")); // the footer under the bars
    view.onEvent({ type: "finished", experiment: finished("e000012") });
    view.close();
    expect(text()).toMatch(/e000012 gated-silu: done fitness \d\.\d{3}\n/);
    expect(text()).toMatch(/1 finished · best e000012 gated-silu fitness/);
  });
});
