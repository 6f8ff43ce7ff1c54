import { describe, expect, it } from "vitest";
import { syntheticExperiment } from "../archive/fixtures.ts";
import type { Experiment } from "../contracts/experiment.ts";
import { errorSpike, isBudgetStop } from "./notify.ts";
import { parseSince, summarise, summaryMarkdown } from "./summary.ts";

describe("report policy", () => {
  it.each([
    [["done", "failed", "failed"], 10, false], // too few seen
    [["failed", "failed", "done", "failed", "failed"], 10, true],
    [["failed", "done", "failed", "done"], 4, false], // exactly half is no spike
    [["done", "done", "done", "done", "done", "done", "failed", "failed", "failed", "failed", "failed", "failed"], 10, true],
    [["failed", "failed", "failed", "failed", "failed", "failed", "done", "done", "done", "done", "done", "done"], 10, false],
  ])("errorSpike(%j, %i) = %s", (statuses, window, spike) => {
    expect(errorSpike(statuses, window)).toBe(spike);
  });

  it.each([
    ["budget of 3 experiments reached", true], ["reached --until 07:00", true], ["reached 2 h", true],
    ["LLM budget reached: $1.0 of $1 spent", true], ["design space around the archive exhausted", false], ["stopped by signal", false],
  ])("%s is a budget stop: %s", (reason, budget) => expect(isBudgetStop(reason)).toBe(budget));

  it("summarises a window: counts, best by fitness, failures, costs", () => {
    const now = new Date("2026-01-02T00:00:00Z");
    const exps = [1, 2, 3, 4].map((i) => ({
      ...syntheticExperiment(i, null, { updatedAt: `2026-01-01T0${i}:00:00Z`, status: i === 4 ? "failed" : "done", reason: i === 4 ? "crash: boom" : null }),
      id: `e${i}`, transitions: [], createdAt: "2026-01-01T00:00:00Z",
    }) as Experiment);
    const s = summarise({ experiments: exps, campaigns: [], since: parseSince("22h", now), now });
    expect(s.experiments).toEqual({ total: 3, done: 2, failed: 1, rejected: 0, unfinished: 0 }); // e1 is before the window
    const byFitness = [exps[1]!, exps[2]!].sort((a, b) => b.fitness!.value - a.fitness!.value).map((e) => e.id);
    expect(s.best.map((b) => b.id)).toEqual(byFitness);
    expect(s.failures).toEqual([{ id: "e4", name: "candidate-4", status: "failed", reason: "crash: boom" }]);
    expect(s.costs.cpuHours).toBeCloseTo(exps.slice(1).reduce((t, e) => t + e.costs.cpuSeconds, 0) / 3600);
    expect(() => parseSince("soon", now)).toThrow(/--since "soon"/);
  });

  it("adds up the compute saved by early stops on any stage, and says it only when a run stopped", () => {
    const now = new Date("2026-01-02T00:00:00Z");
    const rule = { margin: 0.1, warmup_fraction: 0.25, window: 5 };
    const stopped = (steps: number, seconds: number) => ({ step: 600 - steps, total_steps: 600, loss: 3, baseline_loss: 2.5, margin: 0.1, steps_saved: steps, seconds_saved: seconds, rule });
    const exps = [1, 2, 3].map((i) => {
      const e = { ...syntheticExperiment(i, null, { updatedAt: "2026-01-01T12:00:00Z" }), id: `e${i}` } as Experiment;
      const proxy = Object.values(e.stages)[0]!;
      if (i === 1) e.stages = { ...e.stages, lm: { ...proxy, status: "stopped_early", earlyStop: stopped(450, 324) } };
      if (i === 3) e.stages = { ...e.stages, lm: { ...proxy, status: "stopped_early", earlyStop: stopped(300, 216) } };
      return e;
    });
    const s = summarise({ experiments: exps, campaigns: [], since: null, now });
    expect(s.earlyStop).toEqual({ runs: 2, stepsSaved: 750, secondsSaved: 540 });
    expect(summaryMarkdown(s)).toContain("**Early stop:** 2 runs stopped trailing the baseline, 750 steps saved (about 9.0 min)");
    const none = summarise({ experiments: exps.slice(1, 2), campaigns: [], since: null, now });
    expect(none.earlyStop).toEqual({ runs: 0, stepsSaved: 0, secondsSaved: 0 });
    expect(summaryMarkdown(none)).not.toContain("Early stop");
  });
});
