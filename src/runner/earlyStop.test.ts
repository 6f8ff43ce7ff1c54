// The early-stop watch over a run's event stream (pure, with a given clock): only the evaluator's monitor
// events decide; the evidence carries the rule, the steps saved and the seconds they would have taken.
import { describe, expect, it } from "vitest";
import { EarlyStopRecord, EarlyStopRule } from "../contracts/ladder.ts";
import type { ProgressEvent } from "../contracts/result.ts";
import { formatEarlyStop, formatSeconds } from "../cli/format.ts";
import { earlyStopOption, EarlyStopWatch } from "./earlyStop.ts";

const baseline = [10, 20, 30, 40, 50].map((step) => ({ step, loss: 5 - step / 50 }));
const rule = EarlyStopRule.parse({ margin: 0.1, warmup_fraction: 0.25, window: 2 });

/** Feeds step + monitor events every 10 steps, one second per step; returns the step it fired at (or null). */
function feed(watch: EarlyStopWatch, clock: { t: number }, monitorLoss: (step: number) => number, trainLoss = 9): number | null {
  const events: ProgressEvent[] = [{ event: "start", stage: "lm" }];
  for (let step = 10; step <= 50; step += 10) {
    events.push({ event: "step", step, total_steps: 50, loss: trainLoss, tokens: step * 100 });
    events.push({ event: "monitor", step, total_steps: 50, loss: monitorLoss(step) });
  }
  for (const event of events) {
    if (event.event === "step") clock.t += 10_000;
    if (watch.see(event)) return (event as { step: number }).step;
  }
  return null;
}

describe("EarlyStopWatch", () => {
  it.each([
    { name: "trails by 20% from the start", loss: (s: number) => 1.2 * (5 - s / 50), fires: 20, saved: 30 },
    { name: "within the margin", loss: (s: number) => 1.05 * (5 - s / 50), fires: null, saved: 0 },
    { name: "better than the baseline", loss: (s: number) => 0.9 * (5 - s / 50), fires: null, saved: 0 },
    { name: "trails only late (smoothed over 2 points)", loss: (s: number) => (s < 40 ? 4.5 : 7), fires: 40, saved: 10 },
  ])("$name: fires at $fires", ({ loss, fires, saved }) => {
    const clock = { t: 0 };
    const watch = new EarlyStopWatch({ rule, baseline }, () => clock.t);
    expect(feed(watch, clock, loss)).toBe(fires);
    if (fires === null) return expect(watch.evidence).toBeNull();
    const e = EarlyStopRecord.parse(watch.evidence);
    expect(e).toMatchObject({ step: fires, steps_saved: saved, total_steps: 50, margin: 0.1, rule });
    expect(e.loss).toBeGreaterThan(e.baseline_loss * 1.1);
    expect(e.seconds_saved).toBeCloseTo(saved, 6); // 1 s per step, measured between logged steps
    expect(watch.monitor.at(-1)!.step).toBe(fires);
  });

  it("reads the monitor, never the candidate's own training loss", () => {
    const clock = { t: 0 };
    const watch = new EarlyStopWatch({ rule, baseline }, () => clock.t);
    expect(feed(watch, clock, (s) => 5 - s / 50, 99)).toBeNull(); // a terrible reported loss decides nothing
    expect(watch.curve.map((p) => p.loss)).toEqual([99, 99, 99, 99, 99]);
  });

  it("takes a campaign's or the CLI's partial rule with the contract's defaults, and a baseline without a monitor as none", () => {
    expect(earlyStopOption({ margin: 0.3 }, { monitor: baseline }).rule).toEqual({ margin: 0.3, warmup_fraction: 0.25, window: 5 });
    expect(earlyStopOption(undefined, {}).baseline).toEqual([]);
  });
});

describe("formatEarlyStop", () => {
  it("says where, by how much against which margin, and what it saved", () => {
    const e = EarlyStopRecord.parse({ step: 150, total_steps: 600, loss: 2.6, baseline_loss: 2.0, margin: 0.1, steps_saved: 450, seconds_saved: 324, rule: { margin: 0.1, warmup_fraction: 0.25, window: 5 } });
    expect(formatEarlyStop(e)).toBe("stopped early at step 150/600: held-out loss 2.6000 vs the baseline's 2.0000 (+30.0%, margin 10%); saved 450 steps, about 5.4 min");
    expect([4.25, 42, 3600, 7200].map(formatSeconds)).toEqual(["4.3 s", "42 s", "60.0 min", "2.0 h"]);
  });
});
