import { describe, expect, it } from "vitest";
import type { PromotionDecision, RungResult } from "../contracts/experiment.ts";
import { ladderStanding, nextClimbStep, rungEntries } from "./standing.ts";

const fit = (value: number) => ({ value, inputs: {}, terms: {}, formula: "f", band: 0.1 });
const result = (rung: string, level: number, fitness: number | null, status: RungResult["status"] = "ok"): RungResult => ({
  rung, stage: rung === "proxy" ? "proxy" : "lm", preset: "tiny", level, status, fitness: fitness === null ? null : fit(fitness),
  verdict: fitness === null ? null : fitness > 0 ? "better" : "within noise", at: "t",
});
const decision = (from: string, to: string, promoted: boolean): PromotionDecision => ({ from, to, promoted, reasons: [], confirmation: null, at: "t" });
const LADDER = ["proxy", "lm", "explore"];

describe("nextClimbStep", () => {
  it.each([
    ["nothing recorded yet", {}, { kind: "record", rung: "proxy" }],
    ["first rung recorded, no decision", { rungs: [result("proxy", 0, 0.3)] }, { kind: "decide", from: "proxy", to: "lm" }],
    ["not promoted", { rungs: [result("proxy", 0, 0.3)], promotions: [decision("proxy", "lm", false)] }, { kind: "done" }],
    ["promoted, next rung not trained (or interrupted)", { rungs: [result("proxy", 0, 0.3)], promotions: [decision("proxy", "lm", true)] }, { kind: "train", rung: "lm" }],
    ["promoted and trained: the next decision", { rungs: [result("proxy", 0, 0.3), result("lm", 1, 0.2)], promotions: [decision("proxy", "lm", true)] }, { kind: "decide", from: "lm", to: "explore" }],
    ["failed on a rung: no decision from it", { rungs: [result("proxy", 0, 0.3), result("lm", 1, null, "failed")], promotions: [decision("proxy", "lm", true)] }, { kind: "done" }],
    ["top of the ladder", { rungs: [result("proxy", 0, 0.3), result("lm", 1, 0.2), result("explore", 2, 0.1)], promotions: [decision("proxy", "lm", true), decision("lm", "explore", true)] }, { kind: "done" }],
  ] as const)("%s", (_what, exp, step) => {
    expect(nextClimbStep({ id: "e1", ...exp }, LADDER)).toEqual(step);
  });

  it("has nothing to do on a one-rung ladder", () => {
    expect(nextClimbStep({ id: "e1" }, ["proxy"])).toEqual({ kind: "done" });
  });
});

describe("ladderStanding and rungEntries", () => {
  it.each([
    [undefined, null],
    [[], null],
    [[result("proxy", 0, 0.3)], { level: 0, fitness: 0.3 }],
    [[result("proxy", 0, 0.3), result("lm", 1, -0.2)], { level: 1, fitness: -0.2 }],
    [[result("proxy", 0, 0.3), result("lm", 1, null, "timeout")], { level: 0, fitness: 0.3 }],
  ] as const)("%j → %j", (rungs, standing) => {
    expect(ladderStanding(rungs)).toEqual(standing);
  });

  it("lists every result on a rung, a failed one with no fitness, and skips experiments never on it", () => {
    const entries = rungEntries([
      { id: "e1", rungs: [result("proxy", 0, 0.3), result("lm", 1, 0.1)] },
      { id: "e2", rungs: [result("proxy", 0, -0.1), result("lm", 1, null, "failed")] },
      { id: "e3", rungs: [result("proxy", 0, 0.5)] },
      { id: "e4" },
    ], "lm");
    expect(entries).toEqual([{ id: "e1", fitness: 0.1, verdict: "better" }, { id: "e2", fitness: null, verdict: null }]);
  });
});
