import { describe, expect, it } from "vitest";
import { EarlyStopRule, PromotionRule } from "../contracts/ladder.ts";
import { earlyStop, lossAt, promote, withConfirmation, type BaselineVerdict, type RungEntry } from "./policy.ts";

const rung = (fitness: Array<number | null>, verdicts: BaselineVerdict[] = []): RungEntry[] =>
  fitness.map((f, i) => ({ id: `e${i}`, fitness: f, verdict: verdicts[i] ?? null }));

describe("promote", () => {
  const eight = rung([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, null], ["better", "within noise", "better", "worse"]);
  it.each([
    // rule, candidate, promote, reasons
    [{ top: 0.25 }, "e0", true, ["top 0.25: rank 1 of 8 (needs ≤ 2): pass"]],
    [{ top: 0.25 }, "e1", true, ["top 0.25: rank 2 of 8 (needs ≤ 2): pass"]],
    [{ top: 0.25 }, "e2", false, ["top 0.25: rank 3 of 8 (needs ≤ 2): fail"]],
    [{ top: 0.25 }, "e7", false, ["no fitness on this rung: fail"]],
    [{ beats_baseline: true }, "e0", true, ["beats baseline: verdict better (needs better): pass"]],
    [{ beats_baseline: true }, "e1", false, ["beats baseline: verdict within noise (needs better): fail"]],
    [{ beats_baseline: true }, "e4", false, ["beats baseline: verdict none (needs better): fail"]],
    [{ beats_baseline: false }, "e4", true, ["no conditions: pass"]],
    [{ min_fitness: 0.6 }, "e3", true, ["min fitness 0.6: 0.6: pass"]],
    [{ min_fitness: 0.6 }, "e4", false, ["min fitness 0.6: 0.5: fail"]],
    [{ top: 0.5, beats_baseline: true }, "e2", true, ["top 0.5: rank 3 of 8 (needs ≤ 4): pass", "beats baseline: verdict better (needs better): pass"]],
    [{ top: 0.5, beats_baseline: true, min_fitness: 0.75 }, "e2", false, ["top 0.5: rank 3 of 8 (needs ≤ 4): pass", "beats baseline: verdict better (needs better): pass", "min fitness 0.75: 0.7: fail"]],
    [{}, "e6", true, ["no conditions: pass"]],
  ] as const)("%j for %s → %s", (rule, id, expected, reasons) => {
    expect(promote(PromotionRule.parse(rule), eight, id)).toEqual({ promote: expected, reasons });
  });

  it("lets the first result on a rung through a top rule, and ties share the better rank", () => {
    expect(promote({ top: 0.25 }, rung([0.1]), "e0").promote).toBe(true);
    expect(promote({ top: 0.25 }, rung([0.5, 0.5, 0.1, 0.2]), "e1").reasons).toEqual(["top 0.25: rank 1 of 4 (needs ≤ 1): pass"]);
  });

  it("rejects rules out of range", () => {
    expect(PromotionRule.safeParse({ top: 0 }).success).toBe(false);
    expect(PromotionRule.safeParse({ top: 1.5 }).success).toBe(false);
    expect(PromotionRule.safeParse({ topp: 0.2 }).success).toBe(false);
  });
});

describe("earlyStop", () => {
  const baseline = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((step) => ({ step, loss: 5 - step * 0.02 })); // 5 → 3
  const rule = EarlyStopRule.parse({ margin: 0.1, warmup_fraction: 0.25, window: 2 });
  const curve = (points: Array<[number, number]>) => points.map(([step, loss]) => ({ step, loss }));

  it.each([
    ["before the warm-up: never", curve([[10, 9], [20, 9]]), null],
    ["within the margin", curve([[40, 4.5], [50, 4.3]]), null], // mean 4.4 vs 4.0·1.1 = 4.4: not more than
    ["trailing by more than the margin", curve([[40, 4.6], [50, 4.4]]), { step: 50, loss: 4.5, baseline_loss: 4, margin: 0.1, steps_saved: 50 }],
    ["between baseline points, interpolated", curve([[44, 4.8], [45, 4.8]]), { step: 45, loss: 4.8, baseline_loss: 4.1, margin: 0.1, steps_saved: 55 }],
    ["one bad point smoothed away by the window", curve([[40, 3.6], [50, 5.0]]), null],
    ["at the last step: nothing to save", curve([[90, 9], [100, 9]]), null],
    ["better than the baseline", curve([[60, 3.0], [70, 2.9]]), null],
    ["non-finite loss: left to the harness", curve([[40, 4.6], [50, Number.NaN]]), null],
  ] as const)("%s", (_, points, expected) => {
    expect(earlyStop(rule, points, baseline, 100)).toEqual(expected);
  });

  it("makes no decision past the baseline's curve or without one", () => {
    expect(earlyStop(rule, curve([[40, 9], [50, 9]]), baseline.slice(0, 4), 100)).toBeNull();
    expect(earlyStop(rule, curve([[40, 9], [50, 9]]), [], 100)).toBeNull();
    expect(lossAt(baseline, 25)).toBeCloseTo(4.5);
    expect(lossAt(baseline, 101)).toBeNull();
  });
});

describe("withConfirmation", () => {
  const passed = { promote: true, reasons: ["top 1: rank 1 of 1 (needs ≤ 1): pass"] };
  const failed = { promote: false, reasons: ["top 0.25: rank 3 of 4 (needs ≤ 1): fail"] };
  it.each([
    // rule, by the rule, confirmation, climbs, last reason
    [{ top: 1, beats_baseline: true }, passed, "confirmed better", true, "confirmation on fresh seeds: confirmed better (needs confirmed better): pass"],
    [{ top: 1, beats_baseline: true }, passed, "not confirmed", false, "confirmation on fresh seeds: not confirmed (needs confirmed better): fail"],
    [{ top: 1, beats_baseline: true }, passed, "confirmed worse", false, "confirmation on fresh seeds: confirmed worse (needs confirmed better): fail"],
    [{ top: 1, beats_baseline: true }, passed, null, false, "confirmation on fresh seeds: none (needs confirmed better): fail"],
    [{ top: 1 }, passed, "not confirmed", true, "confirmation on fresh seeds: not confirmed (recorded; the rule does not ask beats_baseline)"],
    [{ top: 1 }, passed, "confirmed worse", true, "confirmation on fresh seeds: confirmed worse (recorded; the rule does not ask beats_baseline)"],
    [{ top: 0.25, beats_baseline: true }, failed, null, false, "top 0.25: rank 3 of 4 (needs ≤ 1): fail"],
  ] as const)("%j, rule %j, confirmation %s → climbs %s", (rule, byRule, confirmation, climbs, last) => {
    const out = withConfirmation(PromotionRule.parse(rule), byRule, confirmation);
    expect(out.promote).toBe(climbs);
    expect(out.reasons.at(-1)).toBe(last);
    expect(out.reasons.slice(0, byRule.reasons.length)).toEqual(byRule.reasons);
  });
});
