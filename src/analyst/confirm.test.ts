import { describe, expect, it } from "vitest";
import type { RunResult } from "../contracts/result.ts";
import { claimedWin, decidingMetrics, freshSeeds, judgeConfirmation, latestVerdict, verdictOn } from "./confirm.ts";
import { FitnessConfig } from "./fitness.ts";
import { noiseFloorOf } from "./verdicts.ts";

function result(seed: number, score: number, evalLoss: number): RunResult {
  return {
    schema: "archlab.result/1", stage: "proxy", status: "ok", error: null, probes: null, fingerprint: null, curve: [],
    metrics: { score, eval_loss: evalLoss, "mqar/acc": score }, params: null, tokens_per_s: null, wall_s: 1, device_s: null,
    env: { torch: "2", python: "3", device: "cpu", dtype: "float32", seed },
  };
}
const seeds = [1000, 1001, 1002];
const baseline = seeds.map((s, i) => result(s, [0.60, 0.62, 0.58][i]!, [1.64, 1.62, 1.66][i]!));
const floor = noiseFloorOf(baseline.map((r) => ({ seed: r.env.seed, metrics: r.metrics }))); // score 0.02, loss 0.02
const shifted = (dScore: readonly number[], dLoss: readonly number[]) =>
  baseline.map((b, i) => result(b.env.seed, b.metrics.score! + dScore[i]!, b.metrics.eval_loss! + dLoss[i]!));

describe("judgeConfirmation", () => {
  it.each([
    ["a steady gain on both metrics", [0.05, 0.06, 0.05], [-0.05, -0.06, -0.05], "confirmed better"],
    ["better score, loss unchanged", [0.05, 0.06, 0.05], [0, 0.001, -0.001], "confirmed better"],
    ["issue 13's gate: worse on fresh seeds", [-0.009, -0.011, -0.007], [0.028, 0.02, 0.036], "confirmed worse"],
    ["a steady gain smaller than the between-seed spread (0.02) still counts: paired", [0.01, 0.012, 0.011], [0, 0, 0], "confirmed better"],
    ["a tiny steady gain below a tenth of the floor's band does not", [0.001, 0.001, 0.001], [0, 0, 0], "not confirmed"],
    ["noisy pairs: +0.1, -0.05, +0.04", [0.1, -0.05, 0.04], [0, 0, 0], "not confirmed"],
    ["better score but worse loss: conflicting", [0.05, 0.06, 0.05], [0.05, 0.06, 0.05], "not confirmed"],
  ])("%s -> %s", (_name, dScore, dLoss, verdict) => {
    const out = judgeConfirmation(shifted(dScore, dLoss), baseline, floor);
    expect(out.verdict).toBe(verdict);
    const score = out.metrics.find((m) => m.metric === "score")!;
    expect(score.candidate).toHaveLength(3);
    expect(score.mean).toBeCloseTo(dScore.reduce((a, b) => a + b, 0) / 3, 10);
    expect(score.floor).toBeCloseTo(0.02, 10);
  });

  it("lists the other shared metrics with their own verdicts, deciding on score and eval_loss only", () => {
    const out = judgeConfirmation(shifted([0.05, 0.06, 0.05], [0, 0, 0]), baseline, floor);
    expect(out.metrics.map((m) => m.metric)).toEqual(["score", "eval_loss", "mqar/acc"]);
  });
});

describe("decidingMetrics: a confirmation decides on what the fitness ranks by", () => {
  it.each([
    ["the default (benchmark weighs 0)", {}, ["eval_loss"]],
    ["both terms weighted", { weights: { benchmark: 1 } }, ["score", "eval_loss"]],
    ["ASI-Arch's formula", { kind: "asi-arch" }, ["score", "eval_loss"]],
    ["benchmark only", { weights: { loss: 0, benchmark: 1 } }, ["score"]],
    ["a judge alone: both, as before", { weights: { loss: 0, benchmark: 0 } }, ["score", "eval_loss"]],
  ])("%s -> %j", (_name, fitness, expected) => expect(decidingMetrics(FitnessConfig.parse(fitness))).toEqual(expected));

  it("a lower loss with a worse score is confirmed better on the loss alone, not on both", () => {
    const traded = shifted([-0.05, -0.06, -0.05], [-0.05, -0.06, -0.05]);
    expect(judgeConfirmation(traded, baseline, floor, 2, ["eval_loss"]).verdict).toBe("confirmed better");
    const both = judgeConfirmation(traded, baseline, floor, 2, ["score", "eval_loss"]);
    expect(both.verdict).toBe("not confirmed");
    // a stored confirmation is re-judged from its per-metric verdicts
    expect(verdictOn(both.metrics, ["eval_loss"])).toBe("confirmed better");
    expect(verdictOn(both.metrics, ["score"])).toBe("confirmed worse");
  });
});

describe("freshSeeds", () => {
  it.each([
    [3, [0, 1, 2], [1000, 1001, 1002]],
    [3, [0, 1000, 1001, 1002], [1003, 1004, 1005]],
    [2, [1001], [1000, 1002]],
  ])("%i seeds excluding %j -> %j", (n, excluded, expected) => expect(freshSeeds(n, excluded)).toEqual(expected));
});

describe("latestVerdict", () => {
  it("is the last confirmation's, or null", () => {
    expect(latestVerdict({})).toBeNull();
    expect(latestVerdict({ confirmations: [{ verdict: "not confirmed" }, { verdict: "confirmed better" }] as never })).toBe("confirmed better");
  });
});

describe("claimedWin", () => {
  it("is a win only when confirmed better on fresh seeds, never on selection-seed fitness alone", () => {
    expect(claimedWin({ verdict: "confirmed better" })).toBe(true);
    expect(claimedWin({ verdict: "not confirmed" })).toBe(false);
    expect(claimedWin({ verdict: "confirmed worse" })).toBe(false);
    expect(claimedWin(undefined)).toBe(false);
    expect(claimedWin(null)).toBe(false);
  });
  it("judges a real confirmation: a paired gain beyond the floor on every seed is a win, noise is not", () => {
    const gain = judgeConfirmation(shifted([0.1, 0.1, 0.1], [-0.1, -0.1, -0.1]), baseline, floor);
    const noise = judgeConfirmation(shifted([0.01, -0.01, 0.0], [0.0, 0.01, -0.01]), baseline, floor);
    expect(claimedWin(gain)).toBe(true);
    expect(claimedWin(noise)).toBe(false);
  });
});
