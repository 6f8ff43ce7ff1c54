import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Experiment } from "../contracts/experiment.ts";
import { archlab, useSampleArchive } from "../archive/testing/sampleArchive.ts";

const sample = useSampleArchive("export", "a");

describe("archlab export", () => {
  it("writes CSV with one row per experiment and stage metrics as columns", async () => {
    const out = path.join(sample.dir, "x.csv");
    const run = await archlab(["export", "--format", "csv", "--out", out, "--archive", sample.archive]);
    expect(run.exitCode).toBe(0);
    const lines = fs.readFileSync(out, "utf8").trim().split("\n");
    expect(lines).toHaveLength(5);
    const header = lines[0]!.split(",");
    expect(header.slice(0, 6)).toEqual(["id", "name", "parentId", "campaign", "proposer", "status"]);
    expect(header).toContain("proxy.mqar");
    expect(lines[4]).toContain('e000004,delta-x2-leaky,e000002');
    expect(lines[4]).toContain("probe causality: output at t moved by input at t+1");
  });

  it("prints every record as JSON on stdout", async () => {
    const run = await archlab(["export", "--archive", sample.archive]);
    const data = JSON.parse(run.stdout);
    expect(data.schema).toBe("archlab.export/1");
    expect(Experiment.array().parse(data.experiments)).toHaveLength(4);
    expect(data.campaigns[0].id).toBe("c000001");
    expect(data.notes).toHaveLength(1);
  });
});
