import { describe, expect, it } from "vitest";
import { beatsBaseline, computeFitness, FitnessConfig, fitnessWeights, indistinguishable, needsMoreSeeds, type FitnessInputs } from "./fitness.ts";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const base = { loss: 2.0, baselineLoss: 2.0, benchmark: 0.5, baselineBenchmark: 0.5, judge: null };
const asiArch = FitnessConfig.parse({ kind: "asi-arch" });

describe("computeFitness, kind asi-arch (ASI-Arch's formula)", () => {
  it.each([
    ["equal to baseline, no judge: two halves rescaled to three terms", base, (0.5 + 0.5) * 1.5],
    ["10% lower loss saturates the loss term", { ...base, loss: 1.8 }, (sigmoid(6) + 0.5) * 1.5],
    ["5% lower loss is half way", { ...base, loss: 1.9 }, (sigmoid(3) + 0.5) * 1.5],
    ["20% worse benchmark clips at -1", { ...base, benchmark: 0.4 }, (0.5 + sigmoid(-6)) * 1.5],
    ["with a judge, all three terms, no rescaling", { ...base, judge: 0.8 }, 0.5 + 0.5 + 0.8],
  ])("%s", (_name, inputs, expected) => {
    expect(computeFitness(inputs, asiArch)!.value).toBeCloseTo(expected, 10);
  });

  it("never invents a judge term: it is absent, and the stored inputs say so", () => {
    const f = computeFitness(base, asiArch)!;
    expect(Object.keys(f.terms).sort()).toEqual(["benchmark", "loss"]);
    expect(f.inputs.judge).toBeNull();
    expect(f.kind).toBe("asi-arch");
  });

  it("can be recomputed from its stored inputs with other weights", () => {
    const f = computeFitness({ ...base, loss: 1.9, judge: 0.3 }, asiArch)!;
    const lossOnly = FitnessConfig.parse({ kind: "asi-arch", weights: { loss: 1, benchmark: 0, judge: 0 } });
    const again = computeFitness(f.inputs as never, lossOnly)!;
    expect(again.value).toBeCloseTo(sigmoid(3) * 1, 10);
  });

  it("returns null when nothing is measurable", () => {
    expect(computeFitness({ loss: null, baselineLoss: 2, benchmark: NaN, baselineBenchmark: 0.5, judge: null }, asiArch)).toBeNull();
  });
});

// A quick-preset-like stage: baseline score 0.60 +- 0.004, eval_loss 1.64 +- 0.01 over its seeds.
const stage = { baselineLoss: 1.64, baselineBenchmark: 0.60, lossFloor: 0.01, benchmarkFloor: 0.004, judge: null, samples: 1 };
const candidate = (score: number, loss: number): FitnessInputs => ({ ...stage, benchmark: score, loss });
const both = FitnessConfig.parse({ weights: { benchmark: 1 } });

describe("the default fitness: noise floors, ranked by the loss (DEFAULT_BENCHMARK_WEIGHT)", () => {
  it("weighs the benchmark 0 under the noise formula and 1 under ASI-Arch's, unless the file says", () => {
    expect(fitnessWeights(FitnessConfig.parse({}))).toEqual({ loss: 1, benchmark: 0, judge: 1 });
    expect(fitnessWeights(asiArch).benchmark).toBe(1);
    expect(fitnessWeights(both).benchmark).toBe(1);
    expect(fitnessWeights(FitnessConfig.parse({ kind: "asi-arch", weights: { benchmark: 0.5 } })).benchmark).toBe(0.5);
  });

  it("ranks by z_loss, records the benchmark term, and its band is one term's: k = 2 for one seed", () => {
    const f = computeFitness(candidate(0.70, 1.62))!;
    expect(f.value).toBeCloseTo(2, 10);
    expect(f.terms.benchmark).toBeCloseTo(25, 10);
    expect(f.band).toBeCloseTo(2, 6);
    // a big benchmark gain does not outrank a loss gain
    expect(computeFitness(candidate(0.90, 1.64))!.value).toBeLessThan(computeFitness(candidate(0.60, 1.63))!.value);
  });

  it("is null with only a benchmark to rank by", () => {
    expect(computeFitness({ ...candidate(0.7, 1.6), loss: null })).toBeNull();
  });
});

describe("computeFitness, kind noise, both terms weighted 1", () => {
  it.each([
    ["the baseline itself is 0", candidate(0.60, 1.64), 0],
    ["one floor better on both terms is 1", candidate(0.604, 1.63), 1],
    ["score +0.04 (10 floors), loss equal: 5", candidate(0.64, 1.64), 5],
    ["worse is negative", candidate(0.592, 1.66), -2],
  ])("%s", (_name, inputs, expected) => {
    expect(computeFitness(inputs, both)!.value).toBeCloseTo(expected, 10);
  });

  it("breaks ASI-Arch's ties: winners 30% and 60% better tie at its clip, and are ordered here", () => {
    // From issue 13: after 33 experiments twelve candidates tied at 2.9926, the formula's ceiling.
    const winners = [candidate(0.78, 1.45), candidate(0.90, 1.30), candidate(0.96, 1.20)];
    const asi = winners.map((w) => computeFitness(w, asiArch)!.value);
    expect(new Set(asi.map((v) => v.toFixed(6))).size).toBe(1);
    expect(asi[0]).toBeCloseTo((sigmoid(6) + sigmoid(6)) * 1.5, 10);
    const noise = winners.map((w) => computeFitness(w, both)!.value);
    expect(noise[0]).toBeLessThan(noise[1]!);
    expect(noise[1]).toBeLessThan(noise[2]!);
  });

  it("preserves the order: better on either metric, the other fixed, never ranks lower", () => {
    const scores = [0.55, 0.59, 0.60, 0.61, 0.7, 0.9];
    const byScore = scores.map((s) => computeFitness(candidate(s, 1.6), both)!.value);
    expect([...byScore].sort((a, b) => a - b)).toEqual(byScore);
    const losses = [1.9, 1.7, 1.64, 1.5, 1.2];
    const byLoss = losses.map((l) => computeFitness(candidate(0.6, l), both)!.value);
    expect([...byLoss].sort((a, b) => a - b)).toEqual(byLoss);
  });

  it("records the noise band: k * std of the value from one run's noise, narrower over more seeds", () => {
    const one = computeFitness(candidate(0.7, 1.5), both)!;
    // two unit-variance z terms averaged: std sqrt(2)/2; k = 2
    expect(one.band).toBeCloseTo(Math.SQRT2, 6);
    const three = computeFitness({ ...candidate(0.7, 1.5), samples: 3 }, both)!;
    expect(three.band).toBeCloseTo(Math.SQRT2 / Math.sqrt(3), 6);
    expect(computeFitness({ ...candidate(0.7, 1.5), lossFloor: null, benchmarkFloor: null }, both)).toBeNull();
  });

  it("stores its inputs, floors included, so it can be recomputed under either formula", () => {
    const f = computeFitness(candidate(0.62, 1.6), both)!;
    expect(computeFitness(f.inputs as never, both)!.value).toBeCloseTo(f.value, 12);
    expect(computeFitness(f.inputs as never, asiArch)!.value).toBeCloseTo(computeFitness(candidate(0.62, 1.6), asiArch)!.value, 12);
    expect(f.inputs).toMatchObject({ lossFloor: 0.01, benchmarkFloor: 0.004, samples: 1 });
  });

  it("gives the judge (J - 0.5) * judge_scale noise units", () => {
    const f = computeFitness({ ...candidate(0.60, 1.64), judge: 1 }, both)!;
    expect(f.terms.judge).toBe(2);
    expect(f.value).toBeCloseTo(2 / 3, 10);
  });
});

describe("indistinguishable / beatsBaseline", () => {
  it.each([
    ["equal values", { value: 3, band: 1 }, { value: 3, band: 1 }, true],
    ["apart by less than hypot(bands)", { value: 3, band: 1 }, { value: 4.4, band: 1 }, true],
    ["apart by more", { value: 3, band: 1 }, { value: 4.5, band: 1 }, false],
    ["no bands: only exact ties", { value: 2.9926, band: null }, { value: 2.9926, band: null }, true],
    ["no bands, different", { value: 2.9, band: null }, { value: 2.9926, band: null }, false],
  ])("%s", (_name, a, b, expected) => expect(indistinguishable(a, b)).toBe(expected));

  it("beats the baseline only beyond the band, under either formula", () => {
    expect(beatsBaseline(computeFitness(candidate(0.64, 1.64), both)!, both)).toBe(true); // 5 > 1.41
    expect(beatsBaseline(computeFitness(candidate(0.604, 1.63), both)!, both)).toBe(false); // 1 < 1.41
    expect(beatsBaseline(computeFitness(candidate(0.59, 1.7), both)!, both)).toBe(false);
    expect(beatsBaseline(computeFitness(candidate(0.64, 1.64))!)).toBe(false); // the default: z_loss 0
    expect(beatsBaseline(computeFitness(candidate(0.5, 1.60))!)).toBe(true); // z_loss 4 > 2
    expect(beatsBaseline(computeFitness(candidate(0.66, 1.5), asiArch)!, asiArch)).toBe(true);
    expect(beatsBaseline(computeFitness(candidate(0.60, 1.64), asiArch)!, asiArch)).toBe(false);
  });
});

describe("needsMoreSeeds: a result within noise above the best is re-run before it is ranked above it", () => {
  const f = (value: number, band: number, samples = 1) => ({ value, band, inputs: { samples } });
  it.each([
    ["above the best, within the bands", f(3.0, 1.41), f(2.5, 1.41), 3, true],
    ["above the best, beyond the bands: ranked as is", f(6.0, 1.41), f(2.5, 1.41), 3, false],
    ["below the best: not ranked above it, nothing to settle", f(2.0, 1.41), f(2.5, 1.41), 3, false],
    ["already on the most seeds allowed", f(3.0, 0.82, 3), f(2.5, 1.41), 3, false],
    ["two seeds of three: once more", f(3.0, 1.0, 2), f(2.5, 1.41), 3, true],
    ["no rival yet", f(3.0, 1.41), null, 3, false],
  ])("%s", (_name, candidate, best, max, expected) => expect(needsMoreSeeds(candidate, best, max)).toBe(expected));
});
