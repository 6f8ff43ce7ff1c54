// The leaderboard's page rows: the noise band travels with each row, `tied` marks a fitness within the noise of
// the row above it (after the filters), and the confirmed filter keeps only one verdict.
import { describe, expect, it } from "vitest";
import { leaderboard, sortRows, type Row } from "./rows.ts";

const row = (id: string, fitness: number | null, band: number | null, confirmed: string | null = null): Row => ({
  id, name: id, parentId: null, campaign: "c1", proposer: "mutation", status: "done", fitness, band, confirmed,
  loss: null, bench: null, probes: null, rung: "proxy", level: 0, rungFitness: null, promoted: null, mode: null, reason: null, createdAt: "2026-12-01T00:00:00Z", metrics: {},
});
const query = { status: [], campaign: null, proposer: null, rung: null, matched: null, limit: 50, offset: 0 };

describe("leaderboard rows", () => {
  type Case = { rows: [number | null, number | null][]; tied: boolean[] };
  it.each<Case>([
    // [fitnesses with bands, expected tied flags]: tied when |a - b| <= hypot(band_a, band_b)
    { rows: [[3, 0.5], [2.4, 0.5], [1, 0.5]], tied: [false, true, false] },        // 0.6 <= 0.71; 1.4 > 0.71
    { rows: [[3, 0.1], [2.4, 0.1], [2.35, 0.1]], tied: [false, false, true] },     // 0.6 > 0.14; 0.05 <= 0.14
    { rows: [[3, null], [3, null], [2, null]], tied: [false, true, false] },       // no band: only equal values tie
    { rows: [[3, 1], [null, null], [2.5, 1]], tied: [false, false, true] },        // unscored rows sort last, never tie
  ])("marks a fitness within the noise of the row above: $tied", ({ rows, tied }) => {
    const sorted = sortRows(rows.map(([f, b], i) => row(`e${i}`, f, b)), "fitness", null, new Set());
    const page = leaderboard(sorted, query).rows;
    expect(page.map((r) => r.tied)).toEqual(sorted.map((r) => tied[Number(r.id.slice(1))]));
    expect(page.map((r) => r.band)).toEqual(sorted.map((r) => r.band));
  });

  it("compares with the row above after the filters, also across a page boundary", () => {
    const sorted = [row("a", 3, 0.1), row("b", 2.95, 0.1, "confirmed better"), row("c", 2.9, 0.1, "confirmed better"), row("d", 1, 0.1)];
    const second = leaderboard(sorted, { ...query, offset: 1, limit: 2 }).rows;
    expect(second.map((r) => [r.id, r.tied])).toEqual([["b", true], ["c", true]]);
    const confirmed = leaderboard(sorted, { ...query, confirmed: "confirmed better" });
    expect(confirmed.total).toBe(2);
    expect(confirmed.rows.map((r) => [r.id, r.tied])).toEqual([["b", false], ["c", true]]);
  });
});
