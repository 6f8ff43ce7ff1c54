import path from "node:path";
import { describe, expect, it } from "vitest";
import { Experiment } from "../contracts/experiment.ts";
import { Archive } from "../archive/archive.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { archlab, useSampleArchive } from "../archive/testing/sampleArchive.ts";
import type { Confirmation } from "../contracts/confirmation.ts";

const sample = useSampleArchive("ls", "a");

describe("archlab ls", () => {
  it("prints a table with fitness, parents, key numbers and the rejection reason", async () => {
    const run = await archlab(["ls", "--archive", sample.archive, "--sort", "fitness"]);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^id\s+name\s+parent\s+status\s+fitness\s+band\s+confirmed\s+loss\s+bench\s+probes\s+reason$/);
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toMatch(/^e000004\s+delta-x2-leaky\s+e000002\s+rejected\s+-.*probe causality: output at t moved/);
    expect(run.stdout).toMatch(/e000002\s+delta-x2\s+e000001\s+done\s+[\d.]+\s+-\s+-\s+[\d.]+\s+0\.4\s+6\/6/);
  });

  it("marks fitnesses within the noise band of the row above, shows confirmations, and filters --confirmed", async () => {
    const banded = path.join(sample.dir, "banded");
    const archive = await Archive.open(banded, { mode: "write", warn: () => {} });
    const fitness = (value: number) => ({ value, band: 1.41, kind: "noise", inputs: {}, terms: {}, formula: "noise" });
    const confirmation = (verdict: Confirmation["verdict"]): Confirmation => ({
      at: "2026-01-01T00:00:00.000Z", stage: "proxy", preset: "tiny", seeds: [1000], excludedSeeds: [0, 1, 2], verdict,
      decidedOn: ["score", "eval_loss"], metrics: [], failure: null, wallS: 1, runDir: "runs/x",
    });
    try {
      await archive.insertCampaign({ id: "c000001", name: "test" });
      await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001", fitness: fitness(9), confirmations: [confirmation("confirmed better")] }));
      await archive.insertExperiment(syntheticExperiment(2, null, { id: "e000002", fitness: fitness(8.5), confirmations: [confirmation("not confirmed")] }));
      await archive.insertExperiment(syntheticExperiment(3, null, { id: "e000003", fitness: fitness(4) }));
    } finally {
      await archive.close();
    }
    const run = await archlab(["ls", "--archive", banded, "--sort", "fitness"]);
    const rows = run.stdout.split("\n");
    expect(rows[1]).toMatch(/^e000001\s.*done\s+9\s+±1\.41\s+better\s/);
    expect(rows[2]).toMatch(/^e000002\s.*done\s+≈8\.5\s+±1\.41\s+not\s/); // |9 - 8.5| <= hypot(1.41, 1.41)
    expect(rows[3]).toMatch(/^e000003\s.*done\s+4\s+±1\.41\s+-\s/); // 4.5 apart: distinguishable
    expect(rows.at(-1)).toBe("≈: fitness within the noise band of the row above (not distinguishable)");
    const confirmed = await archlab(["ls", "--archive", banded, "--confirmed", "--json"]);
    expect((JSON.parse(confirmed.stdout) as Experiment[]).map((e) => e.id)).toEqual(["e000001"]);
  });

  it("is the leaderboard by default: best fitness first, unscored experiments after", async () => {
    const run = await archlab(["ls", "--archive", sample.archive, "--json"]);
    expect(run.exitCode).toBe(0);
    const rows = Experiment.array().parse(JSON.parse(run.stdout));
    const scores = rows.map((e) => e.fitness?.value ?? null);
    const scored = scores.filter((f): f is number => f !== null);
    expect(scored.length).toBeGreaterThan(1);
    expect(scored).toEqual([...scored].sort((a, b) => b - a));
    expect(scores.slice(scored.length).every((f) => f === null)).toBe(true);
    expect(rows.map((e) => e.id)).not.toEqual([...rows.map((e) => e.id)].sort()); // not merely id order
    const table = await archlab(["ls", "--archive", sample.archive]);
    expect(table.stdout.split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(rows.map((e) => e.id));
  });

  it("prints validated records with --json, filtered and limited", async () => {
    const run = await archlab(["ls", "--archive", sample.archive, "--json", "--status", "done", "--sort", "id", "--limit", "2"]);
    expect(run.exitCode).toBe(0);
    const rows = Experiment.array().parse(JSON.parse(run.stdout));
    expect(rows.map((e) => e.id)).toEqual(["e000001", "e000002"]);
  });

  it("fails in one line on a missing archive or a bad flag", async () => {
    const missing = await archlab(["ls", "--archive", path.join(sample.dir, "nope")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim().split("\n")).toEqual([`archlab: no archive at ${path.join(sample.dir, "nope")} (run \`archlab run\` to make one, or pass --archive DIR)`]);
    const bad = await archlab(["ls", "--archive", sample.archive, "--limit", "0"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--limit must be a positive integer");
  });
});
