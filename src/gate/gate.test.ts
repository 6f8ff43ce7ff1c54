import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Archive } from "../archive/archive.ts";
import { Gate } from "./gate.ts";

let dir: string;
let archive: Archive;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-gate-"));
  archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  const base = { campaign: "c1", proposer: "mutation" as const, status: "done" as const };
  const a = await archive.insertExperiment({ ...base, name: "a", parentId: null, genomeKey: "ka", fingerprint: "fp1" });
  await archive.writeText(a.id, "motivation", "a decaying state with a short convolution");
  await archive.insertExperiment({ ...base, name: "b", parentId: a.id, genomeKey: null, fingerprint: "fp2" });
});

afterEach(async () => {
  await archive.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the gate", () => {
  it("genome: an archived key or one in flight is a repeat; a new one is not", async () => {
    const gate = await Gate.open(archive, { text: false });
    expect([...gate.takenKeys()]).toEqual(["ka"]);
    expect(gate.genomeRepeats("ka")).toEqual({ repeated: true, ids: ["e000001"] });
    expect(gate.genomeRepeats("kb", new Set(["kb"]))).toEqual({ repeated: true, ids: [] });
    expect(gate.genomeRepeats("kc", new Set(["kb"]))).toEqual({ repeated: false, ids: [] });
  });

  it("behaviour: a fingerprint another experiment has is a repeat, its own or a new one is not", async () => {
    const gate = await Gate.open(archive, { text: false });
    expect(gate.behaviour({ id: "e000009" }, "fp1")).toBe("duplicate: behaves exactly like e000001 (a), fingerprint fp1");
    expect(gate.behaviour({ id: "e000001" }, "fp1")).toBeNull();
    expect(gate.behaviour({ id: "e000009" }, "fp3")).toBeNull();
    expect(gate.behaviour({ id: "e000009" }, null)).toBeNull();
  });

  it("text: without an index every plan goes ahead unchecked; with one, a plan sharing no terms is novel without a judge call", async () => {
    const offline = await Gate.open(archive, { text: false });
    const judge = { client: null as never, config: { k: 5, max_plans: 3, llm_check: true }, call: { experimentId: "e000009", logFile: null }, onFailure: () => { throw new Error("no call expected"); } };
    const plan = { name: "p", motivation: "quaternion rotations", design: "rotate keys" };
    expect((await offline.text(judge, plan, new Map())).verdict).toBe("unchecked");
    const gate = await Gate.open(archive, { text: true });
    expect(await gate.text(judge, plan, new Map())).toMatchObject({ verdict: "novel", similar: [] });
    const near = await gate.text({ ...judge, config: { ...judge.config, llm_check: false } }, { ...plan, motivation: "a short convolution before the decaying state" }, new Map());
    expect(near).toMatchObject({ verdict: "unchecked", similar: [{ id: "e000001" }] });
    gate.recorded("e000009", "quaternion rotations of keys");
    const self = await gate.text({ ...judge, call: { experimentId: "e000010", logFile: null }, config: { ...judge.config, llm_check: false } }, plan, new Map());
    expect(self.similar.map((s) => s.id)).toEqual(["e000009"]);
  });
});
