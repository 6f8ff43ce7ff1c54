import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Archive } from "./archive.ts";
import { ArchiveCorruptError, NoArchiveError } from "./errors.ts";
import { syntheticExperiment } from "./fixtures.ts";

let dir: string;
const opened: Archive[] = [];
const clock = () => new Date("2025-06-01T00:00:00.000Z");

async function open(mode: "read" | "write" = "write", extra = {}): Promise<Archive> {
  const archive = await Archive.open(dir, { mode, now: clock, warn: () => {}, ...extra });
  opened.push(archive);
  return archive;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-archive-"));
});

afterEach(async () => {
  for (const archive of opened.splice(0)) await archive.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("Archive records", () => {
  it("inserts, reads back, updates with a transition, and survives reopening", async () => {
    const archive = await open();
    const id = await archive.newId();
    expect(id).toBe("e000001");
    const seed = await archive.insertExperiment({ id, name: "delta", parentId: null, campaign: "c000001", proposer: "seed", status: "proposed" });
    expect(seed.transitions).toEqual([{ status: "proposed", at: "2025-06-01T00:00:00.000Z" }]);
    expect(seed.costs.cpuSeconds).toBe(0);
    const child = await archive.insertExperiment({ name: "delta-conv", parentId: id, campaign: "c000001", proposer: "mutation", status: "proposed", genomeKey: "g1" });
    expect(child.id).toBe("e000002");

    const updated = await archive.updateExperiment(child.id, { status: "training" }, { note: "proxy" });
    expect(updated.transitions.map((t) => t.status)).toEqual(["proposed", "training"]);
    expect(updated.transitions[1]!.note).toBe("proxy");
    const same = await archive.updateExperiment(child.id, { reason: null });
    expect(same.transitions).toHaveLength(2);
    expect(Object.isFrozen(archive.getExperiment(child.id))).toBe(true);

    await archive.close();
    const again = await open("read");
    expect(again.getExperiment(child.id)).toEqual(updated);
    expect(again.children(id).map((e) => e.id)).toEqual([child.id]);
    expect(again.lineage(child.id).map((e) => e.id)).toEqual([id]);
    expect(again.findByGenomeKey("g1").map((e) => e.id)).toEqual([child.id]);
  });

  it("rejects invalid records, unknown parents and duplicate ids before writing", async () => {
    const archive = await open();
    await expect(archive.insertExperiment({ name: "x", parentId: null, campaign: "c", proposer: "seed", status: "bogus" as never }))
      .rejects.toThrow(/invalid experiment .*status/);
    await expect(archive.insertExperiment({ name: "x", parentId: "e000404", campaign: "c", proposer: "mutation", status: "proposed" }))
      .rejects.toThrow(/parent e000404 is not in archive/);
    await archive.insertExperiment({ id: "e000007", name: "x", parentId: null, campaign: "c", proposer: "seed", status: "proposed" });
    await expect(archive.insertExperiment({ id: "e000007", name: "y", parentId: null, campaign: "c", proposer: "seed", status: "proposed" }))
      .rejects.toThrow(/already in archive/);
    expect(await archive.newId()).toBe("e000008"); // counters stay above explicit ids
    expect(() => archive.requireExperiment("e999999")).toThrow(NoArchiveError);
  });

  it("loses no field when updates of one experiment race, and never freezes the caller's objects", async () => {
    const archive = await open();
    const genome = { heads: 4, paths: [1, 2] };
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001", genome }));
    expect(Object.isFrozen(genome.paths)).toBe(false);
    await Promise.all([
      archive.updateExperiment("e000001", { reason: "a" }),
      archive.updateExperiment("e000001", { fingerprint: "f" }),
      archive.updateExperiment("e000001", { status: "failed" }),
    ]);
    expect(archive.getExperiment("e000001")).toMatchObject({ reason: "a", fingerprint: "f", status: "failed" });
    expect(archive.findByFingerprint("f").map((e) => e.id)).toEqual(["e000001"]);
  });

  it("names the archive and record when a stored record is corrupt", async () => {
    const archive = await open();
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001" }));
    await archive.close();
    const file = fs.readdirSync(dir).find((name) => /^experiments\.\d+\.jsonl$/.test(name))!;
    const text = fs.readFileSync(path.join(dir, file), "utf8").replace('"status":"done"', '"status":"dune"');
    fs.writeFileSync(path.join(dir, file), text);
    const reader = await open("read");
    expect(() => reader.getExperiment("e000001")).toThrow(ArchiveCorruptError);
    expect(() => reader.getExperiment("e000001")).toThrow(`archive ${dir}: experiment e000001 is invalid (status:`);
  });

  it("ranks a leaderboard by fitness, created or name, with filters and limits", async () => {
    const archive = await open();
    const fitness = [1.2, null, 1.9, 1.5, 0.7];
    for (const [i, value] of fitness.entries()) {
      await archive.insertExperiment(syntheticExperiment(i + 1, null, {
        id: `e00000${i + 1}`,
        name: ["d", "b", "e", "a", "c"][i]!,
        status: value === null ? "failed" : "done",
        fitness: value === null ? null : { value, inputs: {}, terms: {}, formula: "f" },
      }));
    }
    expect(archive.leaderboard({ limit: 3 }).map((e) => e.id)).toEqual(["e000003", "e000004", "e000001"]);
    expect(archive.leaderboard().map((e) => e.id)).toEqual(["e000003", "e000004", "e000001", "e000005"]);
    expect(archive.leaderboard({ scoredOnly: false }).at(-1)!.id).toBe("e000002");
    expect(archive.leaderboard({ sortBy: "created", limit: 2 }).map((e) => e.id)).toEqual(["e000005", "e000004"]);
    expect(archive.leaderboard({ sortBy: "name" }).map((e) => e.name)).toEqual(["a", "b", "c", "d", "e"]);
    expect(archive.leaderboard({ sortBy: "id", status: "failed" }).map((e) => e.id)).toEqual(["e000002"]);
    expect(archive.experiments({ status: ["failed"] }).map((e) => e.id)).toEqual(["e000002"]);
  });

  it("top-k over many records equals a full sort", async () => {
    const archive = await open();
    for (let i = 1; i <= 120; i++) await archive.insertExperiment(syntheticExperiment(i, null, { id: `e${String(i).padStart(6, "0")}` }));
    const full = archive.leaderboard().map((e) => e.id);
    expect(archive.leaderboard({ limit: 7 }).map((e) => e.id)).toEqual(full.slice(0, 7));
    expect(archive.leaderboard({ limit: 7, sortBy: "name" }).map((e) => e.id))
      .toEqual(archive.leaderboard({ sortBy: "name" }).slice(0, 7).map((e) => e.id));
  });

  it("keeps the fingerprint, genome and parent indexes right across updates", async () => {
    const archive = await open();
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001", fingerprint: "fa" }));
    await archive.insertExperiment(syntheticExperiment(2, null, { id: "e000002", fingerprint: "fb" }));
    await archive.insertExperiment(syntheticExperiment(3, "e000001", { id: "e000003", fingerprint: null }));
    await archive.updateExperiment("e000003", { fingerprint: "fa", parentId: "e000002" });
    expect(archive.findByFingerprint("fa").map((e) => e.id)).toEqual(["e000001", "e000003"]);
    expect(archive.children("e000001")).toEqual([]);
    expect(archive.children("e000002").map((e) => e.id)).toEqual(["e000003"]);
    expect(archive.findByGenomeKey("genome-2").map((e) => e.id)).toEqual(["e000002"]);
    expect(archive.findByGenomeKey("nope")).toEqual([]);
  });

  it("stores code by content, long text out of line, and run dirs per stage", async () => {
    const archive = await open();
    const hash = await archive.putCode("class DeltaNet: pass\n");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await archive.putCode("class DeltaNet: pass\n")).toBe(hash);
    expect(await archive.readCode(hash)).toBe("class DeltaNet: pass\n");
    expect(archive.codePath(hash)).toBe(path.join(dir, "code", `${hash}.py`));
    await archive.writeText("e000001", "motivation", "Because.");
    expect(await archive.readText("e000001", "motivation")).toBe("Because.");
    expect(await archive.readText("e000001", "analysis")).toBeNull();
    expect(archive.textKinds("e000001")).toEqual(["motivation"]);
    expect(() => archive.textPath("e000001", "../x")).toThrow(/text kind/);
    const run = archive.runDir("e000001", "proxy");
    expect(run).toBe(path.join(dir, "runs", "e000001", "proxy"));
    expect(fs.statSync(run).isDirectory()).toBe(true);
  });

  it("keeps campaigns, ledger entries and notes", async () => {
    const archive = await open();
    const campaign = await archive.insertCampaign({ name: "nightly", config: { budget: 6 } });
    expect(campaign.id).toBe("c000001");
    await archive.updateCampaign(campaign.id, { endedAt: "2025-06-02T00:00:00.000Z", stopReason: "budget" });
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001" }));
    await archive.appendLedger({ campaign: campaign.id, experimentId: "e000001", kind: "compute", role: null, tokensIn: 0, tokensOut: 0, dollars: 0, seconds: 12 });
    await archive.appendLedger({ campaign: "other", experimentId: null, kind: "llm", role: "researcher", tokensIn: 10, tokensOut: 5, dollars: 0.01, seconds: 1 });
    const note = await archive.addNote({ experimentId: "e000001", text: "promising" });
    await archive.updateNote(note.id, { pinned: true });
    await expect(archive.addNote({ experimentId: "e000404", text: "x" })).rejects.toThrow(NoArchiveError);
    await archive.close();

    const reader = await open("read");
    expect(reader.getCampaign("c000001")!.stopReason).toBe("budget");
    expect(reader.ledger({ campaign: "c000001" }).map((e) => e.seconds)).toEqual([12]);
    expect(reader.ledger()).toHaveLength(2);
    expect(reader.notes("e000001")).toMatchObject([{ text: "promising", pinned: true }]);
  });

  it("refuses writes when opened for reading, and a missing archive is a one-line error", async () => {
    await expect(Archive.open(path.join(dir, "none"), { mode: "read" })).rejects.toThrow(NoArchiveError);
    await (await open()).close();
    const reader = await open("read");
    await expect(reader.insertExperiment(syntheticExperiment(1, null))).rejects.toThrow(/read-only/);
  });
});
