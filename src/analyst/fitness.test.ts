import { describe, expect, it } from "vitest";
import { computeFitness, FitnessConfig } from "./fitness.ts";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const base = { loss: 2.0, baselineLoss: 2.0, benchmark: 0.5, baselineBenchmark: 0.5, judge: null };

describe("computeFitness", () => {
  it.each([
    ["equal to baseline, no judge: two halves rescaled to three terms", base, (0.5 + 0.5) * 1.5],
    ["10% lower loss saturates the loss term", { ...base, loss: 1.8 }, (sigmoid(6) + 0.5) * 1.5],
    ["5% lower loss is half way", { ...base, loss: 1.9 }, (sigmoid(3) + 0.5) * 1.5],
    ["20% worse benchmark clips at -1", { ...base, benchmark: 0.4 }, (0.5 + sigmoid(-6)) * 1.5],
    ["with a judge, all three terms, no rescaling", { ...base, judge: 0.8 }, 0.5 + 0.5 + 0.8],
  ])("%s", (_name, inputs, expected) => {
    expect(computeFitness(inputs)!.value).toBeCloseTo(expected, 10);
  });

  it("never invents a judge term: it is absent, and the stored inputs say so", () => {
    const f = computeFitness(base)!;
    expect(Object.keys(f.terms).sort()).toEqual(["benchmark", "loss"]);
    expect(f.inputs.judge).toBeNull();
  });

  it("can be recomputed from its stored inputs with other weights", () => {
    const f = computeFitness({ ...base, loss: 1.9, judge: 0.3 })!;
    const lossOnly = FitnessConfig.parse({ weights: { loss: 1, benchmark: 0, judge: 0 } });
    const again = computeFitness(f.inputs as never, lossOnly)!;
    expect(again.value).toBeCloseTo(sigmoid(3) * 1, 10);
  });

  it("returns null when nothing is measurable", () => {
    expect(computeFitness({ loss: null, baselineLoss: 2, benchmark: NaN, baselineBenchmark: 0.5, judge: null })).toBeNull();
  });
});
