// The leaderboard's ladder order (issue 14): the highest rung reached first, then the fitness on that rung;
// summaries without a ladder rank by fitness as before.
import { describe, expect, it } from "vitest";
import { rankSummaries } from "./queries.ts";
import type { ExperimentSummary } from "./store.ts";

const summary = (id: string, fitness: number | null, rung?: number, rungFitness?: number): ExperimentSummary => ({
  id, name: id, parentId: null, campaign: "c", proposer: "mutation", status: "done", fitness, fitnessBand: null, genome: null, change: null, mode: null, probe: null, genomeKey: null,
  fingerprint: null, createdAt: "2026-12-01T00:00:00Z", at: null, ...(rung !== undefined && { rung, rungFitness }),
});

describe("rankSummaries by fitness on the ladder", () => {
  const all = [
    summary("e1", 0.9), // best proxy fitness, never climbed
    summary("e2", 0.2, 1, -0.3), // reached lm, weak there
    summary("e3", 0.1, 1, 0.4), // reached lm, strong there
    summary("e4", 0.5, 0, 0.5), // a ladder record that stayed on the first rung
    summary("e5", null),
  ];
  it("ranks by the highest rung reached, then by the fitness there; unscored last", () => {
    expect(rankSummaries(all, { scoredOnly: false }).map((s) => s.id)).toEqual(["e3", "e2", "e1", "e4", "e5"]);
  });
  it("gives the same order through the top-k path", () => {
    const many = [...all, ...Array.from({ length: 60 }, (_, i) => summary(`f${String(i).padStart(2, "0")}`, -1 - i))];
    expect(rankSummaries(many, { limit: 3 }).map((s) => s.id)).toEqual(["e3", "e2", "e1"]);
  });
});
