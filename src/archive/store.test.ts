import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Archive } from "./archive.ts";
import { ArchiveCorruptError } from "./errors.ts";
import { syntheticExperiment } from "./fixtures.ts";
import { JOURNAL_FILE, SNAPSHOT_FILE } from "./store.ts";

let dir: string;
const opened: Archive[] = [];
let warnings: string[] = [];

async function open(mode: "read" | "write" = "write", extra = {}): Promise<Archive> {
  const archive = await Archive.open(dir, { mode, warn: (m) => warnings.push(m), ...extra });
  opened.push(archive);
  return archive;
}

/** Inserts e000001..e00000n, each a child of the previous. */
async function fill(archive: Archive, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    const id = `e${String(n).padStart(6, "0")}`;
    await archive.insertExperiment(syntheticExperiment(n, n === 1 ? null : `e${String(n - 1).padStart(6, "0")}`, { id }));
  }
}

const journal = () => fs.readFileSync(path.join(dir, JOURNAL_FILE), "utf8");
const experimentFiles = () => fs.readdirSync(dir).filter((name) => /^experiments\./.test(name));

/** Simulates kill -9: drop the handle without close(), so nothing is compacted; release the lock dir by hand. */
function abandon(archive: Archive): void {
  opened.splice(opened.indexOf(archive), 1);
  fs.rmSync(path.join(dir, "writer.lock"), { recursive: true, force: true });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-store-"));
  warnings = [];
});

afterEach(async () => {
  for (const archive of opened.splice(0)) await archive.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("journal", () => {
  it("appends one line per write and replays it on open without any compaction", async () => {
    const writer = await open();
    await fill(writer, 1, 5);
    await writer.updateExperiment("e000003", { status: "failed", reason: "probe: causality" });
    const lines = journal().trim().split("\n");
    expect(JSON.parse(lines[0]!)).toEqual({ journal: "archlab.journal/1", base: 0 });
    expect(lines.slice(1).map((l) => JSON.parse(l).op)).toContain("put");
    expect(JSON.parse(fs.readFileSync(path.join(dir, SNAPSHOT_FILE), "utf8")).experiments).toEqual([]);

    // A reader while the writer is still open sees everything that was acknowledged.
    const reader = await open("read");
    expect(reader.count()).toBe(5);
    expect(reader.getExperiment("e000003")!.reason).toBe("probe: causality");
    expect(reader.lineage("e000005").map((e) => e.id)).toEqual(["e000004", "e000003", "e000002", "e000001"]);

    abandon(writer);
    const after = await open();
    expect(after.count()).toBe(5);
    expect(after.getExperiment("e000003")!.status).toBe("failed");
  });

  it("ignores a torn last line after a crash, keeps everything before it, and the next writer truncates it", async () => {
    const writer = await open();
    await fill(writer, 1, 4);
    abandon(writer);
    const full = fs.readFileSync(path.join(dir, JOURNAL_FILE));
    const lastStart = full.subarray(0, full.length - 1).lastIndexOf(0x0a) + 1;
    fs.truncateSync(path.join(dir, JOURNAL_FILE), lastStart + Math.floor((full.length - lastStart) / 2)); // mid-line

    const reader = await open("read");
    expect(reader.count()).toBe(3);
    expect(reader.getExperiment("e000003")).toBeDefined();
    expect(reader.getExperiment("e000004")).toBeUndefined();

    const again = await open();
    expect(warnings.join("\n")).toMatch(/dropped a torn last journal line/);
    expect(again.count()).toBe(3);
    await fill(again, 4, 5);
    abandon(again);
    const last = await open("read");
    expect(last.count()).toBe(5);
    expect(journal().endsWith("\n")).toBe(true);
  });

  it("names the line when a line in the middle is corrupt", async () => {
    const writer = await open();
    await fill(writer, 1, 3);
    abandon(writer);
    const lines = journal().split("\n");
    lines[2] = "{not json";
    fs.writeFileSync(path.join(dir, JOURNAL_FILE), lines.join("\n"));
    await expect(open("read")).rejects.toThrow(ArchiveCorruptError);
    await expect(open("read")).rejects.toThrow(`archive ${dir}: journal.jsonl line 3 is not a valid op`);
  });
});

describe("compaction", () => {
  it("folds the journal into db.json and an experiments file on close", async () => {
    const writer = await open();
    await fill(writer, 1, 6);
    await writer.close();
    expect(journal().trim().split("\n")).toHaveLength(1);
    const db = JSON.parse(fs.readFileSync(path.join(dir, SNAPSHOT_FILE), "utf8"));
    expect(db.schema).toBe("archlab.archive/1");
    expect(db.experiments).toHaveLength(6);
    expect(db.experiments[0]).toMatchObject({ id: "e000001", status: "done", at: [0, expect.any(Number)] });
    expect(experimentFiles()).toEqual([db.experimentsFile]);
    const reader = await open("read");
    expect(reader.getExperiment("e000006")!.parentId).toBe("e000005");
  });

  it("compacts when the journal outgrows its threshold, copying unchanged records and dropping old files", async () => {
    const writer = await open("write", { compactMinBytes: 20_000, compactRatio: 0.1 });
    await fill(writer, 1, 30); // ~1.8 kB per op: compacts at least twice
    expect(writer.stats().journalBytes).toBeLessThan(25_000);
    expect(experimentFiles()).toHaveLength(1);
    await writer.updateExperiment("e000002", { status: "failed", reason: "late" });
    await writer.close();
    const reader = await open("read");
    expect(reader.count()).toBe(30);
    expect(reader.getExperiment("e000002")!.reason).toBe("late");
    expect(reader.getExperiment("e000030")!.name).toBe("candidate-30");
    expect(reader.leaderboard({ limit: 1 })[0]!.fitness).not.toBeNull();
  });

  it("recovers from a crash between writing db.json and replacing the journal", async () => {
    const writer = await open();
    await fill(writer, 1, 3);
    const before = journal();
    await writer.close(); // compacts
    fs.writeFileSync(path.join(dir, JOURNAL_FILE), before); // as if the journal had not been replaced yet
    const again = await open();
    expect(again.count()).toBe(3); // the old ops are skipped by seq, not applied twice
    await fill(again, 4, 4);
    abandon(again);
    expect((await open("read")).count()).toBe(4);
  });

  it("removes an experiments file left by a compaction interrupted before db.json", async () => {
    const writer = await open();
    await fill(writer, 1, 2);
    await writer.close();
    fs.writeFileSync(path.join(dir, "experiments.99.jsonl"), "partial");
    const again = await open();
    expect(experimentFiles()).toHaveLength(1);
    expect(again.count()).toBe(2);
  });

  it("gives readers a consistent view while a writer compacts", async () => {
    const writer = await open("write", { compactMinBytes: 10_000, compactRatio: 0.05 });
    let reads = 0;
    let done = false;
    const readLoop = (async () => {
      while (!done) {
        const reader = await Archive.open(dir, { mode: "read" });
        const n = reader.count();
        // Every experiment the reader knows about is readable and its ancestry is complete.
        if (n > 0) expect(reader.lineage(`e${String(n).padStart(6, "0")}`)).toHaveLength(n - 1);
        await reader.close();
        reads++;
      }
    })();
    await fill(writer, 1, 40);
    done = true;
    await readLoop;
    expect(reads).toBeGreaterThan(0);
  });
});
