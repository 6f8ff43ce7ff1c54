import { describe, expect, it } from "vitest";
import { averageRanks, pairwiseAgreement, spearman } from "./ranking.ts";

describe("rank agreement", () => {
  it("gives tied values their average rank", () => {
    expect(averageRanks([10, 30, 20, 30])).toEqual([1, 3.5, 2, 3.5]);
  });

  it("is 1 / 100% for the same order and -1 / 0% for the reverse, whatever the scale", () => {
    const proxy = [0.40, 0.59, 0.51, 0.47];
    const negLoss = [-2.9, -2.1, -2.3, -2.6];
    expect(spearman(proxy, negLoss)).toBeCloseTo(1, 12);
    expect(pairwiseAgreement(proxy, negLoss)).toEqual({ pairs: 6, agree: 6, tied: 0, share: 1 });
    expect(spearman(proxy, negLoss.map((v) => -v))).toBeCloseTo(-1, 12);
    expect(pairwiseAgreement(proxy, negLoss.map((v) => -v)).share).toBe(0);
  });

  it("counts one swapped pair of five layers as 9 of 10 pairs and rho 0.9", () => {
    const proxy = [5, 4, 3, 1, 2];
    const lm = [5, 4, 3, 2, 1];
    expect(pairwiseAgreement(proxy, lm)).toEqual({ pairs: 10, agree: 9, tied: 0, share: 0.9 });
    expect(spearman(proxy, lm)).toBeCloseTo(0.9, 12);
  });

  it("leaves out pairs the reference ties and counts proxy ties as half", () => {
    expect(pairwiseAgreement([1, 1, 2], [1, 2, 2])).toEqual({ pairs: 2, agree: 1, tied: 1, share: 0.75 });
  });

  it("has no rho below three layers or for a constant side", () => {
    expect(spearman([1, 2], [2, 1])).toBeNull();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(/3 values against 2/);
  });
});
