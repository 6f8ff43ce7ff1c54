import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Experiment } from "../contracts/experiment.ts";
import { archlab, buildSampleArchive } from "../archive/testing/sampleArchive.ts";

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-ls-"));
  await buildSampleArchive(path.join(dir, "a"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("archlab ls", () => {
  it("prints a table with fitness, parents, key numbers and the rejection reason", async () => {
    const run = await archlab(["ls", "--archive", path.join(dir, "a"), "--sort", "fitness"]);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^id\s+name\s+parent\s+status\s+fitness\s+loss\s+bench\s+probes\s+reason$/);
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toMatch(/^e000004\s+delta-x2-leaky\s+e000002\s+rejected\s+-.*probe causality: output at t moved/);
    expect(run.stdout).toMatch(/e000002\s+delta-x2\s+e000001\s+done\s+[\d.]+\s+[\d.]+\s+0\.4\s+6\/6/);
  });

  it("is the leaderboard by default: best fitness first, unscored experiments after", async () => {
    const run = await archlab(["ls", "--archive", path.join(dir, "a"), "--json"]);
    expect(run.exitCode).toBe(0);
    const rows = Experiment.array().parse(JSON.parse(run.stdout));
    const scores = rows.map((e) => e.fitness?.value ?? null);
    const scored = scores.filter((f): f is number => f !== null);
    expect(scored.length).toBeGreaterThan(1);
    expect(scored).toEqual([...scored].sort((a, b) => b - a));
    expect(scores.slice(scored.length).every((f) => f === null)).toBe(true);
    expect(rows.map((e) => e.id)).not.toEqual([...rows.map((e) => e.id)].sort()); // not merely id order
    const table = await archlab(["ls", "--archive", path.join(dir, "a")]);
    expect(table.stdout.split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(rows.map((e) => e.id));
  });

  it("prints validated records with --json, filtered and limited", async () => {
    const run = await archlab(["ls", "--archive", path.join(dir, "a"), "--json", "--status", "done", "--sort", "id", "--limit", "2"]);
    expect(run.exitCode).toBe(0);
    const rows = Experiment.array().parse(JSON.parse(run.stdout));
    expect(rows.map((e) => e.id)).toEqual(["e000001", "e000002"]);
  });

  it("fails in one line on a missing archive or a bad flag", async () => {
    const missing = await archlab(["ls", "--archive", path.join(dir, "nope")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim().split("\n")).toEqual([`archlab: no archive at ${path.join(dir, "nope")} (run \`archlab run\` to make one, or pass --archive DIR)`]);
    const bad = await archlab(["ls", "--archive", path.join(dir, "a"), "--limit", "0"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--limit must be a positive integer");
  });
});
