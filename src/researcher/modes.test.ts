import { describe, expect, it } from "vitest";
import { summarizeExperiment, type Experiment } from "../contracts/experiment.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { chooseMode, modeRecords, successRate, type ModeRecord } from "./modes.ts";
import { seededRng } from "./rng.ts";

function exp(id: string, patch: Partial<Experiment>): Experiment {
  return { ...syntheticExperiment(Number(id.slice(1)), null), id, updatedAt: "", ...patch } as Experiment;
}

describe("proposal modes", () => {
  it("counts finished proposals per mode: passed probes and beat parent", () => {
    const parent = exp("e1", { fitness: { value: 1, inputs: {}, terms: {}, formula: "" } });
    const better = exp("e2", { parentId: "e1", mode: "genome", fitness: { value: 1.2, inputs: {}, terms: {}, formula: "" } });
    const worse = exp("e3", { parentId: "e1", mode: "code", fitness: { value: 0.8, inputs: {}, terms: {}, formula: "" } });
    const rejected = exp("e4", { parentId: "e1", mode: "code", status: "rejected", fitness: null, stages: { probe: { ...better.stages.probe!, status: "rejected" } } });
    const running = exp("e5", { parentId: "e1", mode: "code", status: "training" });
    const r = modeRecords([parent, better, worse, rejected, running].map(summarizeExperiment));
    expect(r.genome).toEqual({ mode: "genome", n: 1, passedProbe: 1, beatParent: 1 });
    expect(r.code).toEqual({ mode: "code", n: 2, passedProbe: 1, beatParent: 0 });
  });

  it.each<[Omit<ModeRecord, "mode">, number]>([
    [{ n: 0, passedProbe: 0, beatParent: 0 }, 0.5],
    [{ n: 1, passedProbe: 1, beatParent: 1 }, 0.75],
    [{ n: 4, passedProbe: 0, beatParent: 0 }, 0.1],
    [{ n: 8, passedProbe: 8, beatParent: 4 }, 13 / 18],
  ])("success rate of %j is %f", (r, rate) => {
    expect(successRate({ mode: "code", ...r })).toBeCloseTo(rate, 10);
  });

  it("draws modes in proportion to their success rates, only among the allowed ones", () => {
    const records = {
      genome: { mode: "genome" as const, n: 10, passedProbe: 10, beatParent: 8 }, // 19/22
      code: { mode: "code" as const, n: 10, passedProbe: 2, beatParent: 0 }, // 3/22
    };
    const rng = seededRng(7);
    const draws = Array.from({ length: 4000 }, () => chooseMode(records, ["genome", "code"], rng));
    expect(draws.filter((m) => m === "genome").length / draws.length).toBeCloseTo(19 / 22, 1);
    expect(new Set(Array.from({ length: 50 }, () => chooseMode(records, ["code"], rng)))).toEqual(new Set(["code"]));
  });
});
