// The fidelity bench's rank statistics (bench/fidelity.ts): the campaign-fitness row ranks layers by the same
// noise-scaled formula a campaign uses, so which term dominates follows the baseline's floors.
import { describe, expect, it } from "vitest";
import { fidelityStats, type FidelityRow } from "../bench/fidelity.ts";
import { FitnessConfig } from "../src/analyst/fitness.ts";

const both = FitnessConfig.parse({ weights: { benchmark: 1 } });

const row = (name: string, evalLoss: number, score: number, lmLoss: number): FidelityRow => ({
  name, source: "generated", codeSha256: name, key: name,
  proxy: { status: "ok", score, evalLoss, wallS: 1 },
  lm: { status: "ok", loss: lmLoss, score: null, wallS: 1 },
});

// The proxy's loss orders these as the LM rung does (a < b < c); the score orders them backwards.
const rows = [row("a", 2.0, 0.50, 1.9), row("b", 2.1, 0.55, 2.0), row("c", 2.2, 0.60, 2.1)];
const baseline = (lossStd: number, scoreStd: number) => ({ eval_loss: 2.1, "eval_loss:std": lossStd, "eval_loss:n": 3, score: 0.55, "score:std": scoreStd, "score:n": 3 });

describe("fidelityStats", () => {
  it("ranks by loss and by score separately", () => {
    const s = fidelityStats(rows);
    expect(s.evalLoss.pairwise.share).toBe(1);
    expect(s.score.pairwise.share).toBe(0);
    expect(s.fitness).toBeNull();
  });

  it("ranks by the campaign's fitness: with both terms weighted, the one with the smaller floor decides", () => {
    expect(fidelityStats(rows, baseline(0.01, 0.05), both).fitness!.pairwise.share).toBe(1);
    expect(fidelityStats(rows, baseline(0.1, 0.005), both).fitness!.pairwise.share).toBe(0);
    // the default ranks by the loss whatever the floors
    expect(fidelityStats(rows, baseline(0.1, 0.005)).fitness!.pairwise.share).toBe(1);
  });

  it("has no fitness row without a floor", () => {
    expect(fidelityStats(rows, { eval_loss: 2.1, score: 0.55 }).fitness).toBeNull();
  });
});
