import { describe, expect, it } from "vitest";
import type { Experiment, Note } from "../contracts/experiment.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { approxTokens, describeExperiment } from "../analyst/describe.ts";
import { curateExemplars, genomeSpace, relevantNotes, type ExemplarCandidate } from "./context.ts";
import { SEED_GENOMES } from "../contracts/genome.ts";

const cand = (id: string, fullChars: number, briefChars: number, source: ExemplarCandidate["source"] = "top"): ExemplarCandidate =>
  ({ id, source, full: "f".repeat(fullChars), brief: "b".repeat(briefChars) });

describe("curated exemplars", () => {
  it("keeps the given order (pinned first), at most maxCount, within the token budget", () => {
    const picked = curateExemplars([cand("e1", 400, 100, "pinned"), cand("e2", 400, 100), cand("e3", 400, 100), cand("e4", 400, 100)], 3, 1000);
    expect(picked.map((p) => [p.id, p.text.length])).toEqual([["e1", 400], ["e2", 400], ["e3", 400]]);
  });

  it("drops the code (brief form) when the full entry does not fit, and skips entries that fit in neither form", () => {
    const picked = curateExemplars([cand("e1", 4000, 300), cand("e2", 8000, 6000), cand("e3", 800, 100)], 5, 600);
    expect(picked.map((p) => [p.id, p.text[0], p.text.length])).toEqual([["e1", "b", 300], ["e3", "f", 800]]);
    expect(picked.reduce((t, p) => t + approxTokens(p.text), 0)).toBeLessThanOrEqual(600);
  });

  it("offers each experiment once even when it is pinned and top-ranked", () => {
    expect(curateExemplars([cand("e1", 40, 10, "pinned"), cand("e1", 40, 10), cand("e2", 40, 10)], 5, 1000).map((p) => p.id)).toEqual(["e1", "e2"]);
  });
});

describe("prompt text", () => {
  it("describes an experiment with its results, probes, genome and texts", () => {
    const e = { ...syntheticExperiment(3, "e000001"), id: "e000003", updatedAt: "", genome: SEED_GENOMES.delta_net } as Experiment;
    const text = describeExperiment(e, { motivation: "Because recall.", analysis: "x".repeat(3000) }, { textChars: 100 });
    expect(text).toMatch(/^### \[e000003\] candidate-3/);
    expect(text).toContain("parent [e000001]");
    expect(text).toMatch(/Results: .*mqar 0\.8100/);
    expect(text).toMatch(/Probes: .*causality pass/);
    expect(text).toContain("Genome: update=delta, feature_map=silu");
    expect(text).toContain("Motivation: Because recall.");
    expect(text).toContain("(2900 more characters)");
  });

  it("marks the parent's genes in the design space, and says when there is no genome", () => {
    expect(genomeSpace(SEED_GENOMES.delta_net!)).toContain("**delta** (parent)");
    expect(genomeSpace(null)).toContain("genome mode is not available");
  });

  it("shows pinned notes and notes on shown experiments, pinned first", () => {
    const notes: Note[] = [
      { id: "n1", experimentId: "e000004", at: "2025-01-01", text: "ignore", pinned: false },
      { id: "n2", experimentId: "e000002", at: "2025-01-02", text: "conv helps recall", pinned: false },
      { id: "n3", experimentId: "e000009", at: "2025-01-03", text: "try two paths", pinned: true },
    ];
    const text = relevantNotes(notes, new Set(["e000002"]), (id) => (id === "e000009" ? "gated" : undefined));
    expect(text.split("\n")).toEqual(["- [pinned] on [e000009] gated: try two paths", "- on [e000002]: conv helps recall"]);
    expect(relevantNotes([], new Set(), () => undefined)).toBe("(none)");
  });
});
