import { describe, expect, it } from "vitest";
import type { RunResult } from "../contracts/result.ts";
import { compareToBaseline, higherIsBetter, spread } from "./seeds.ts";

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

  it("pairs seeds: a steady gain smaller than the between-seed spread still counts", () => {
    // Seeds differ by 0.1 from each other, yet the candidate beats the baseline by 0.02 +- 0.005 on every seed.
    const candidate = [result(0, { score: 0.52 }), result(1, { score: 0.625 }), result(2, { score: 0.565 })];
    const [score] = compareToBaseline(candidate, baseline);
    expect(score!.metric).toBe("score");
    expect(score!.difference.mean).toBeCloseTo(0.02, 10);
    expect(score!.difference.std).toBeCloseTo(0.005, 10);
    expect(score!.verdict).toBe("better");
  });

  it("calls a difference inside the spread of per-seed differences 'within spread'", () => {
    const candidate = [result(0, { score: 0.55 }), result(1, { score: 0.56 }), result(2, { score: 0.58 })];
    expect(compareToBaseline(candidate, baseline)[0]!.verdict).toBe("within spread");
  });

  it("knows a lower loss is better", () => {
    const candidate = [result(0, { eval_loss: 1.8 }), result(1, { eval_loss: 2.0 }), result(2, { eval_loss: 1.95 })];
    const [loss] = compareToBaseline(candidate, baseline);
    expect(loss!.metric).toBe("eval_loss");
    expect(loss!.verdict).toBe("better");
    expect(compareToBaseline(baseline, candidate).find((r) => r.metric === "eval_loss")!.verdict).toBe("worse");
  });

  it("says 'one seed' instead of guessing when there is no spread", () => {
    expect(compareToBaseline([result(0, { score: 0.9 })], baseline)[0]!.verdict).toBe("one seed");
  });

  it("uses only seeds both sides finished, and skips metrics the baseline lacks", () => {
    const candidate = [result(0, { score: 0.6, "new/acc": 1 }), result(1, { score: null }), result(7, { score: 0.9 }), result(2, { score: 0.7 }, "failed")];
    const rows = compareToBaseline(candidate, baseline);
    expect(rows.map((r) => r.metric)).toEqual(["score"]);
    expect(rows[0]!.difference).toEqual({ mean: expect.closeTo(0.1, 10), std: null, n: 1 });
  });
});
