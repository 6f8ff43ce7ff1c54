// The early-stop watch over a run's event stream (pure, with a given clock): only the evaluator's monitor
// events decide; the evidence carries the rule, the steps saved and the seconds they would have taken.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EarlyStopRecord, EarlyStopRule } from "../contracts/ladder.ts";
import { RESULT_SCHEMA, RunResult, type ProgressEvent } from "../contracts/result.ts";
import { RunSpec } from "../contracts/runSpec.ts";
import { formatEarlyStop, formatSeconds } from "../cli/format.ts";
import { earlyStopOption, earlyStopping, EarlyStopWatch } from "./earlyStop.ts";
import type { Runner } from "./runner.ts";

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

describe("earlyStopping(runner)", () => {
  // Any runner honouring the interface (LocalRunner kills its process groups, SlurmRunner scancels): this one
  // streams a run's events and stops when its signal aborts, as a killed run would, with the runner's own result.
  const fakeRunner = (monitorLoss: number): Runner => ({
    kind: "slurm",
    async run(spec, ctx) {
      ctx.onProgress?.({ event: "start", stage: spec.stage });
      for (let step = 10; step <= 50; step += 10) {
        if (ctx.signal?.aborted) break;
        await new Promise((r) => setTimeout(r, 5));
        ctx.onProgress?.({ event: "step", step, total_steps: 50, loss: 9, tokens: step * 10 });
        ctx.onProgress?.({ event: "monitor", step, total_steps: 50, loss: monitorLoss });
      }
      const status = ctx.signal?.aborted ? "failed" : "ok";
      const result = { ...killedResult(spec), status, error: status === "ok" ? null : { kind: "cancelled", message: "scancel", tail: "" } } as RunResult;
      return { result, processS: 1.5 };
    },
  });
  const setup = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-es-"));
    const spec = RunSpec.parse({ stage: "lm", layer: { path: "l.py" }, result_path: path.join(dir, "result.json"), checkpoint_path: path.join(dir, "checkpoint.pt"), train: { steps: 50 } });
    fs.mkdirSync(path.join(dir, "work"));
    fs.writeFileSync(path.join(dir, "work", "checkpoint.pt"), "x");
    return { dir, spec };
  };
  const option = { rule, baseline: baseline.map((p) => ({ ...p, loss: 2 })) };

  it("stops a trailing run through the runner's abort and records stopped_early, its evidence and the result file", async () => {
    const { dir, spec } = setup();
    const seen: string[] = [];
    const out = await earlyStopping(fakeRunner(3)).run(spec, { runDir: dir, earlyStop: option, onProgress: (e) => seen.push(e.event) });
    expect(out.result.status).toBe("stopped_early");
    expect(out.result.error).toBeNull();
    expect(out.result.early_stop).toMatchObject({ step: 20, steps_saved: 30, loss: 3, baseline_loss: 2 });
    expect(out.result.monitor!.map((p) => p.step)).toEqual([10, 20]);
    expect(out.result.curve.map((p) => p.step)).toEqual([10, 20]); // the reported curve so far
    expect(seen).toContain("stopped_early"); // the progress view says so
    expect(RunResult.parse(JSON.parse(fs.readFileSync(spec.result_path, "utf8"))).status).toBe("stopped_early");
    expect(fs.existsSync(path.join(dir, "work", "checkpoint.pt"))).toBe(false);
  });

  it("leaves a run within the margin, a run without the option, and a run the caller aborts as the runner returns them", async () => {
    const { dir, spec } = setup();
    expect((await earlyStopping(fakeRunner(2.1)).run(spec, { runDir: dir, earlyStop: option })).result.status).toBe("ok");
    expect((await earlyStopping(fakeRunner(3)).run(spec, { runDir: dir })).result.status).toBe("ok");
    const caller = new AbortController();
    caller.abort();
    const stopped = await earlyStopping(fakeRunner(3)).run(spec, { runDir: dir, earlyStop: option, signal: caller.signal });
    expect(stopped.result.status).toBe("failed"); // the caller's stop (veto, budget, signal) is not an early stop
    expect(stopped.result.early_stop ?? null).toBeNull();
    expect(fs.existsSync(path.join(dir, "work", "checkpoint.pt"))).toBe(true);
  });
});

function killedResult(spec: RunSpec): RunResult {
  return RunResult.parse({ schema: RESULT_SCHEMA, stage: spec.stage, status: "failed", error: null, probes: null, fingerprint: null, curve: [], metrics: {}, params: null, tokens_per_s: null, wall_s: 0, device_s: null, env: { torch: "unknown", python: "unknown", device: "cpu", dtype: "auto", seed: 0 } });
}
