import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SteeringAction } from "../contracts/steering.ts";
import { propose } from "../researcher/propose.ts";
import { seededRng } from "../researcher/rng.ts";
import { SamplingConfig } from "../researcher/sampling.ts";
import { SEED_GENOMES, genomeKey } from "../contracts/genome.ts";
import { summarizeExperiment, type Experiment } from "../contracts/experiment.ts";
import { appendSteering, readSteering } from "./journal.ts";
import { foldSteering, notesFor, parseRules, pausedBy, rulesOf } from "./state.ts";
import { LineTail } from "./tail.ts";

let n = 0;
const rec = (r: Record<string, unknown>): SteeringAction => ({ id: `s${++n}`, at: `2026-01-01T00:00:${String(n).padStart(2, "0")}Z`, who: "t", why: null, ...r }) as SteeringAction;
const night = { id: "night-1", name: "night" };
const day = { id: "day-1", name: "day" };

describe("foldSteering", () => {
  it.each([
    [[], null, null],
    [[{ action: "pause", campaign: null }], "pause", "pause"],
    [[{ action: "pause", campaign: null }, { action: "resume", campaign: "night" }], null, "pause"],
    [[{ action: "pause", campaign: "night-1" }], "pause", null],
    [[{ action: "pause", campaign: "night" }, { action: "resume", campaign: null }], null, null],
    [[{ action: "pause", campaign: "night" }, { action: "resume", campaign: "night-1" }], null, null],
  ])("pause/resume %j: night %s, day %s", (records, nightState, dayState) => {
    const state = foldSteering(records.map(rec));
    expect(pausedBy(state, night)?.action ?? null).toBe(nightState);
    expect(pausedBy(state, day)?.action ?? null).toBe(dayState);
  });

  it("keeps the first veto, the latest pins, every note", () => {
    const state = foldSteering([
      { action: "veto", experimentId: "e1", why: "first" }, { action: "veto", experimentId: "e1", why: "again" },
      { action: "pin", experimentId: "e2" }, { action: "pin", experimentId: "e3" }, { action: "unpin", experimentId: "e2" },
      { action: "note", text: "a", experimentId: null, campaign: "night" }, { action: "note", text: "b", experimentId: null, campaign: "day" },
      { action: "note", text: "c", experimentId: "e3", campaign: null },
    ].map(rec));
    expect(state.vetoed.get("e1")?.why).toBe("first");
    expect([...state.pinned.keys()]).toEqual(["e3"]);
    expect(notesFor(state, night).map((x) => x.text)).toEqual(["a", "c"]);
  });

  it("reads prefer/avoid rules line by line, later notes winning, aliases mapped", () => {
    expect(parseRules("prefer state_update=gated_delta\nsome words\navoid output_gate=none; prefer short_conv=4")).toEqual([
      { kind: "prefer", gene: "update", value: "gated_delta", noteId: "" },
      { kind: "avoid", gene: "output_gate", value: "none", noteId: "" },
      { kind: "prefer", gene: "short_conv", value: "4", noteId: "" },
    ]);
    expect(parseRules("I prefer update=delta")).toEqual([]);
    const notes = [rec({ action: "note", text: "prefer update=delta", experimentId: null, campaign: null }), rec({ action: "note", text: "avoid update=delta", experimentId: null, campaign: null })];
    expect(rulesOf(notes as never).map((r) => r.kind)).toEqual(["avoid"]);
  });
});

describe("the steering journal", () => {
  it("appends whole lines and tails them, ignoring a torn last line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-steering-"));
    const tail = new LineTail(path.join(dir, "steering.jsonl"));
    expect(tail.read().lines).toEqual([]);
    appendSteering(dir, { action: "pause", campaign: null, who: "a", why: null });
    fs.appendFileSync(path.join(dir, "steering.jsonl"), '{"id":"torn"');
    expect(tail.read().lines).toHaveLength(1);
    expect(readSteering(dir).map((r) => r.action)).toEqual(["pause"]);
    fs.appendFileSync(path.join(dir, "steering.jsonl"), ',"x":1}\n');
    expect(tail.read().lines).toEqual(['{"id":"torn","x":1}']);
    fs.writeFileSync(path.join(dir, "steering.jsonl"), "");
    expect(tail.read()).toEqual({ lines: [], reset: true });
  });
});

describe("a steered offline proposal", () => {
  const seed = {
    id: "e1", name: "delta_net", parentId: null, status: "done", genome: SEED_GENOMES.delta_net, genomeKey: genomeKey(SEED_GENOMES.delta_net!),
    fitness: { value: 1, inputs: {}, terms: {}, formula: "" },
  } as unknown as Experiment;
  const summary = summarizeExperiment(seed);
  const settings = { kind: "mutation" as const, crossoverRate: 0, temperature: 0.05, seeds: ["delta_net"], sampling: SamplingConfig.parse({}) };
  it.each([0, 1, 2, 3, 4])("honours prefer and avoid (rng seed %i)", (s) => {
    const taken = new Set([seed.genomeKey!]);
    const preferred = propose([summary], new Map(), {}, taken, { ...settings, steer: { pinned: [], prefer: [{ gene: "update", value: "gated_delta", source: "note s1" }], avoid: [] } }, seededRng(s));
    expect(preferred?.genome.update).toBe("gated_delta");
    expect(preferred?.motivation).toMatch(/Steering: a human note \(note s1\) says prefer update=gated_delta/);
    const avoided = propose([summary], new Map(), {}, taken, { ...settings, steer: { pinned: [], prefer: [], avoid: [{ gene: "output_norm", value: "rms", source: "note s2" }] } }, seededRng(s));
    expect(avoided?.genome.output_norm).toBe("none"); // the seed has rms: the child must change it
  });
});
