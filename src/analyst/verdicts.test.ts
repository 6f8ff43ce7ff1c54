import { describe, expect, it } from "vitest";
import { confirmationVerdict, floorOf, judgeMetric, noiseBand, noiseFloorOf, pairedVerdict, verdictOf } from "./verdicts.ts";

describe("noiseBand", () => {
  it.each([
    ["one run each: k * floor * sqrt(2)", 0.01, 1, 1, 2, 0.02 * Math.SQRT2],
    ["means over 3 seeds each: sqrt(2/3)", 0.01, 3, 3, 2, 0.02 * Math.sqrt(2 / 3)],
    ["one run vs a 3-seed baseline", 0.01, 1, 3, 2, 0.02 * Math.sqrt(4 / 3)],
    ["k = 1", 0.01, 1, 1, 1, 0.01 * Math.SQRT2],
  ])("%s", (_name, floor, nA, nB, k, expected) => expect(noiseBand(floor, nA, nB, k)).toBeCloseTo(expected, 12));

  it("is null without a floor", () => expect(noiseBand(null)).toBeNull());
});

describe("verdictOf / judgeMetric", () => {
  it.each([
    // metric, value, reference, floor, verdict
    ["score up beyond the band", "score", 0.65, 0.60, 0.01, "better"],
    ["score down beyond the band", "score", 0.55, 0.60, 0.01, "worse"],
    ["score up, but inside the band (2 * 0.01 * sqrt 2 = 0.028)", "score", 0.62, 0.60, 0.01, "within noise"],
    ["just inside the band edge (0.0280 < 0.0283)", "score", 0.628, 0.60, 0.01, "within noise"],
    ["just outside it", "score", 0.629, 0.60, 0.01, "better"],
    ["eval_loss down is better", "eval_loss", 1.60, 1.70, 0.02, "better"],
    ["eval_loss up is worse", "eval_loss", 1.80, 1.70, 0.02, "worse"],
    ["bits per byte down is better", "lm/bpb", 6.0, 7.0, 0.1, "better"],
    ["an unknown floor is never evidence", "score", 0.9, 0.1, null, "within noise"],
    // The measured case: +0.0048 score on one seed is within a 0.004 floor's band.
    ["issue 13's sigmoid gate: +0.0048 on one seed, floor 0.004", "score", 0.6012, 0.5964, 0.004, "within noise"],
  ])("%s", (_name, metric, value, reference, floor, verdict) => {
    const j = judgeMetric(metric, value, reference, floor);
    expect(j.verdict).toBe(verdict);
    expect(j.difference).toBeCloseTo(value - reference, 12);
    expect(j.floor).toBe(floor);
  });

  it("signs follow the metric's direction", () => {
    expect(verdictOf("mqar/loss", -1, 0.1)).toBe("better");
    expect(verdictOf("mqar/acc", -1, 0.1)).toBe("worse");
  });
});

describe("pairedVerdict", () => {
  it.each([
    ["steady gain: mean 0.02 +- 0.005 over 3 seeds", { mean: 0.02, std: 0.005, n: 3 }, 0.004, "better"],
    ["the issue's gate on fresh seeds: -0.009 +- 0.002", { mean: -0.009, std: 0.002, n: 3 }, 0.004, "worse"],
    ["noisy pairs: mean 0.01 +- 0.02", { mean: 0.01, std: 0.02, n: 3 }, 0.004, "within noise"],
    ["a steady gain below the floor still counts when paired", { mean: 0.003, std: 0.0005, n: 3 }, 0.004, "better"],
    ["three identical pairs cannot make a zero band: a tenth of the floor still counts", { mean: 0.0003, std: 0, n: 3 }, 0.004, "within noise"],
    ["one seed falls back to the floor", { mean: 0.05, std: null, n: 1 }, 0.01, "better"],
    ["one seed, no floor: no evidence", { mean: 0.05, std: null, n: 1 }, null, "within noise"],
  ])("%s", (_name, difference, floor, verdict) => expect(pairedVerdict("score", difference, floor).verdict).toBe(verdict));
});

describe("confirmationVerdict", () => {
  it.each([
    [["better", "better"], "confirmed better"],
    [["better", "within noise"], "confirmed better"],
    [["within noise", "within noise"], "not confirmed"],
    [["better", "worse"], "not confirmed"],
    [["worse", "within noise"], "confirmed worse"],
    [["worse", "worse"], "confirmed worse"],
    [[], "not confirmed"],
  ] as const)("%j -> %s", (verdicts, expected) => {
    expect(confirmationVerdict(verdicts.map((verdict) => ({ verdict })))).toBe(expected);
  });
});

describe("noise floors", () => {
  it("is the std over the baseline's seeds, per metric, skipping metrics seen once", () => {
    const floor = noiseFloorOf([
      { seed: 0, metrics: { score: 0.50, eval_loss: 2.0, once: 1 } },
      { seed: 1, metrics: { score: 0.60, eval_loss: 2.2 } },
      { seed: 2, metrics: { score: 0.55, eval_loss: null } },
    ]);
    expect(floor.seeds).toEqual([0, 1, 2]);
    expect(floor.metrics.score!.std).toBeCloseTo(0.05, 12);
    expect(floor.metrics.score!.n).toBe(3);
    expect(floor.metrics.eval_loss!.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(floor.metrics.once).toBeUndefined();
  });

  it("is never zero: a metric flat across seeds gets 0.1% of its mean", () => {
    expect(noiseFloorOf([{ seed: 0, metrics: { score: 0.5 } }, { seed: 1, metrics: { score: 0.5 } }]).metrics.score!.std).toBeCloseTo(5e-4, 12);
    expect(floorOf({ score: 0.5, "score:std": 0 }, "score")).toBeCloseTo(5e-4, 12);
    expect(floorOf({ score: 0.5, "score:std": 0.03 }, "score")).toBe(0.03);
    expect(floorOf({ score: 0.5 }, "score")).toBeNull();
    expect(floorOf(null, "score")).toBeNull();
  });
});
