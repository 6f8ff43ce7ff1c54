import { describe, expect, it } from "vitest";
import type { RunResult } from "../contracts/result.ts";
import { compareToBaseline, floorOfRuns, higherIsBetter, spread } from "./seeds.ts";

function result(seed: number, metrics: Record<string, number | null>, status: RunResult["status"] = "ok"): RunResult {
  return {
    schema: "archlab.result/1", stage: "proxy", status, error: null, probes: null, fingerprint: null, curve: [],
    metrics, params: null, tokens_per_s: null, wall_s: 1, device_s: null,
    env: { torch: "2", python: "3", device: "cpu", dtype: "float32", seed },
  };
}

describe("spread", () => {
  it("is the mean and the sample standard deviation", () => {
    expect(spread([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(spread([5])).toEqual({ mean: 5, std: null, n: 1 });
  });
});

describe("higherIsBetter", () => {
  it.each([["score", true], ["mqar/acc", true], ["eval_loss", false], ["lm/bpb", false], ["mqar/loss", false]])(
    "%s -> %s", (metric, up) => expect(higherIsBetter(metric)).toBe(up));
});

describe("compareToBaseline", () => {
  const baseline = [result(0, { score: 0.50, eval_loss: 2.0 }), result(1, { score: 0.60, eval_loss: 2.2 }), result(2, { score: 0.55, eval_loss: 2.1 })];
  // The stage's noise floor: the baseline's std over its seeds (score 0.05, eval_loss 0.1).
  const floor = floorOfRuns(baseline);

  it("pairs seeds: a steady gain smaller than the between-seed spread still counts", () => {
    // Seeds differ by 0.1 from each other, yet the candidate beats the baseline by 0.02 +- 0.005 on every seed.
    const candidate = [result(0, { score: 0.52 }), result(1, { score: 0.625 }), result(2, { score: 0.565 })];
    const [score] = compareToBaseline(candidate, baseline, floor);
    expect(score!.metric).toBe("score");
    expect(score!.difference.mean).toBeCloseTo(0.02, 10);
    expect(score!.difference.std).toBeCloseTo(0.005, 10);
    expect(score!.floor).toBeCloseTo(0.05, 10);
    expect(score!.band).toBeCloseTo((2 * 0.005) / Math.sqrt(3), 10); // k standard errors of the mean pair
    expect(score!.verdict).toBe("better");
  });

  it("calls a difference inside the noise band of the paired differences 'within noise'", () => {
    const candidate = [result(0, { score: 0.50 }), result(1, { score: 0.63 }), result(2, { score: 0.586 })]; // +0.022 ± 0.019
    const [score] = compareToBaseline(candidate, baseline, floor);
    expect(score!.difference.mean).toBeGreaterThan(score!.difference.std!); // the old "beats the seed spread" rule said better
    expect(score!.verdict).toBe("within noise");
  });

  it("knows a lower loss is better", () => {
    const candidate = [result(0, { eval_loss: 1.8 }), result(1, { eval_loss: 2.0 }), result(2, { eval_loss: 1.95 })];
    const [loss] = compareToBaseline(candidate, baseline, floor);
    expect(loss!.metric).toBe("eval_loss");
    expect(loss!.verdict).toBe("better");
    expect(compareToBaseline(baseline, candidate, floor).find((r) => r.metric === "eval_loss")!.verdict).toBe("worse");
  });

  it("one seed: the floor's band for one run each; without a floor, no evidence either way", () => {
    const [withFloor] = compareToBaseline([result(0, { score: 0.9 })], baseline, floor);
    expect(withFloor!.band).toBeCloseTo(2 * 0.05 * Math.SQRT2, 10);
    expect(withFloor!.verdict).toBe("better");
    const [alone] = compareToBaseline([result(0, { score: 0.9 })], [baseline[0]!], floorOfRuns([baseline[0]!]));
    expect(alone).toMatchObject({ floor: null, band: null, verdict: "within noise" });
  });

  it("uses only seeds both sides finished, and skips metrics the baseline lacks", () => {
    const candidate = [result(0, { score: 0.6, "new/acc": 1 }), result(1, { score: null }), result(7, { score: 0.9 }), result(2, { score: 0.7 }, "failed")];
    const rows = compareToBaseline(candidate, baseline, floor);
    expect(rows.map((r) => r.metric)).toEqual(["score"]);
    expect(rows[0]!.difference).toEqual({ mean: expect.closeTo(0.1, 10), std: null, n: 1 });
  });
});
