import { describe, expect, it } from "vitest";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { summarizeExperiment, type Experiment } from "../contracts/experiment.ts";
import { computeFitness } from "./fitness.ts";
import { analyse, geneEffects, leadWeight, preferencesFrom } from "./rules.ts";

describe("leadWeight: gene effects shrunk by their evidence", () => {
  it.each([
    // deltas (child - parent fitness), noise (std of each difference), expected weight
    ["a single within-noise help is not a lead", [0.25], [0.5], 0],
    ["a single within-noise hurt is not a lead either", [-0.4], [0.5], 0],
    ["a single help far beyond the noise counts, less the band", [3], [0.5], 3 - 2 * 0.5],
    ["four consistent small helps: band 2 * 0.5 / 2 = 0.5 -> 0.1", [0.6, 0.6, 0.6, 0.6], [0.5, 0.5, 0.5, 0.5], 0.1],
    ["inconsistent evidence: the spread widens the band", [2, -1.5, 2, -1.5], [0.5, 0.5, 0.5, 0.5], 0],
    ["no noise estimate at all, one observation: n / (n + 1)", [0.3], [null], 0.15],
  ])("%s", (_name, deltas, noise, expected) => expect(leadWeight(deltas, noise)).toBeCloseTo(expected, 10));

  it("grows with repeated, consistent evidence", () => {
    const weights = [1, 2, 4, 8, 16].map((n) => leadWeight(Array(n).fill(0.6), Array(n).fill(0.5)));
    expect(weights[0]).toBe(0);
    for (let i = 1; i < weights.length; i++) expect(weights[i]).toBeGreaterThanOrEqual(weights[i - 1]!);
    expect(weights[4]).toBeGreaterThan(0.3);
    expect(weights[4]).toBeLessThan(0.6);
  });
});

// A parent and children trained on one seed each, on a stage whose floor is score 0.004, eval_loss 0.01.
const stage = { baselineLoss: 1.64, baselineBenchmark: 0.60, lossFloor: 0.01, benchmarkFloor: 0.004, judge: null, samples: 1 };
function measured(n: number, parentId: string | null, score: number, loss: number, change: Record<string, unknown> | null): Experiment {
  const base = syntheticExperiment(n, parentId) as Experiment;
  return {
    ...base, id: `e${String(n).padStart(6, "0")}`, change,
    fitness: computeFitness({ ...stage, benchmark: score, loss }),
    stages: { proxy: { ...base.stages.proxy!, metrics: { score, eval_loss: loss } } },
  } as Experiment;
}
const baseline = { score: 0.60, "score:std": 0.004, "score:n": 3, eval_loss: 1.64, "eval_loss:std": 0.01, "eval_loss:n": 3 };
const gate = { gene: "output_gate", from: "none", to: "sigmoid" };

describe("the rule-based analyst's verdicts", () => {
  // Issue 13's case: a sigmoid output gate moved score 0.5964 -> 0.6012 and eval loss 1.6443 -> 1.6390 on seed 0.
  const parent = measured(1, null, 0.5964, 1.6443, null);
  const child = measured(2, parent.id, 0.6012, 1.6390, gate);

  it("calls issue 13's +0.0048 score a within-noise change, not 'helped'", () => {
    const { analysis, experience } = analyse(child, parent, [], baseline);
    expect(experience).toMatch(/^Setting output_gate to sigmoid \(from none\) was within noise \(not a lead\) \(fitness \+0\.\d+, band ±\d\.\d+\); no metric moved beyond the noise floor\.$/);
    expect(experience).not.toMatch(/helped/);
    expect(analysis).toMatch(/\| score \| 0\.5964 \| 0\.6012 \| \+0\.0048 \| ±0\.0113 \| within noise \|/);
    expect(analysis).toMatch(/Against the baseline \(noise floor = its std over 3 seeds\): score \+0\.0012 \(floor 0\.0040, band ±0\.0092\): within noise/);
  });

  it("says helped, with the metrics that moved, when the change clears the band", () => {
    const big = measured(3, parent.id, 0.70, 1.50, gate);
    const { experience } = analyse(big, parent, [], baseline);
    expect(experience).toMatch(/^Setting output_gate to sigmoid \(from none\) helped \(fitness \+\d+\.\d+, band ±\d\.\d+\); score \+0\.1036 \(better, band ±0\.0113\), eval_loss -0\.1443 \(better, band ±0\.0283\)\.$/);
  });

  it("compares with the best sibling within noise", () => {
    const a = measured(3, parent.id, 0.70, 1.50, gate);
    const b = measured(4, parent.id, 0.701, 1.499, { gene: "feature_map", from: "elu1", to: "silu" });
    expect(analyse(b, parent, [a], baseline).analysis).toMatch(/Rank 1 of 2 among its parent's children; vs the runner-up e000003 \(candidate-3\): \+0\.\d+ \(floor \d\.\d+, band ±\d\.\d+\): within noise\./);
  });

  it("gene effects: one within-noise help weighs 0; repeated clear helps make a lead", () => {
    const one = geneEffects([parent, child].map(summarizeExperiment));
    expect(one.get("output_gate=sigmoid")).toMatchObject({ n: 1, verdicts: { better: 0, worse: 0, "within noise": 1 }, weight: 0 });
    expect(preferencesFrom(one)["output_gate=sigmoid"]).toBe(0);
    const parents = [10, 20, 30].map((n) => measured(n, null, 0.60, 1.64, null));
    const helps = parents.map((p, i) => measured(11 + 10 * i, p.id, 0.63, 1.60, gate));
    const many = geneEffects([...parents, ...helps].map(summarizeExperiment)).get("output_gate=sigmoid")!;
    expect(many.verdicts.better).toBe(3);
    expect(many.weight).toBeGreaterThan(0);
    expect(many.weight).toBeLessThan(many.fitness);
  });
});
