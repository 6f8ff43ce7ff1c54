import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../archive/archive.ts";
import { archlab } from "../archive/testing/sampleArchive.ts";
import { sharedData } from "../../test/support/shared.ts";

const { dir: SHARED, have: haveAsiArch } = sharedData("asi-arch", ["tree.json", "programs.json"], "ASI-Arch's tree");

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-import-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A small tree in ASI-Arch's format (made up here, not their data). */
function writeTree(file: string): void {
  const results = [
    { index: 1, name: "root", parent: null, score: 1.5, name_new: "Root" },
    { index: 2, name: "a", parent: 1, score: 1.7, name_new: "A" },
    { index: 5, name: "b", parent: 2, score: 1.9, name_new: "B" },
    { index: 3, name: "c", parent: 1, score: null, name_new: "C" },
  ];
  fs.writeFileSync(file, JSON.stringify({ total_records: results.length, results }));
}

describe("archlab import asi-arch", () => {
  it("imports a tree keeping indexes, parents and scores; a second import adds nothing", async () => {
    const tree = path.join(dir, "tree.json");
    const archiveDir = path.join(dir, "small");
    writeTree(tree);
    const run = await archlab(["import", "asi-arch", tree, "--archive", archiveDir]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(`imported 4 experiments (0 with code) into ${archiveDir} as campaign c000001`);
    const again = await archlab(["import", "asi-arch", tree, "--archive", archiveDir]);
    expect(again.stdout).toContain("imported 0 experiments (0 with code)");
    expect(again.stdout).toContain("4 already there");

    const archive = await Archive.open(archiveDir, { mode: "read" });
    const b = archive.experiments().find((e) => e.name === "b")!;
    expect(b).toMatchObject({ proposer: "import", status: "done", fitness: { value: 1.9 }, change: { source: "asi-arch", index: 5, parent: 2 } });
    expect(archive.lineage(b.id).map((e) => e.name)).toEqual(["a", "root"]);
    expect(archive.experiments().find((e) => e.name === "c")!.fitness).toBeNull();
    await archive.close();
  });

  it("exits 3 naming the owner when another process holds the archive", async () => {
    const tree = path.join(dir, "tree.json");
    const archiveDir = path.join(dir, "locked");
    writeTree(tree);
    const holder = await Archive.open(archiveDir, { mode: "write" });
    try {
      const run = await archlab(["import", "asi-arch", tree, "--archive", archiveDir]);
      expect(run.exitCode).toBe(3);
      expect(run.stderr).toMatch(new RegExp(`^archlab: archive ${archiveDir} is locked by pid ${process.pid} since \\d{4}-`));
    } finally {
      await holder.close();
    }
  });

  it("rejects a file in neither format with one line", async () => {
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ nodes: [] }));
    const run = await archlab(["import", "asi-arch", bad, "--archive", path.join(dir, "bad")]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^archlab: .*bad\.json is not an ASI-Arch tree\.json \(results: /);
  });

  it.skipIf(!haveAsiArch)("imports ASI-Arch's whole tree (1,772 nodes) with its 8 programs, lineage and diffs intact", async () => {
    const archiveDir = path.join(dir, "asi");
    const run = await archlab(["import", "asi-arch", path.join(SHARED, "tree.json"), "--programs", path.join(SHARED, "programs.json"), "--archive", archiveDir]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("imported 1772 experiments (8 with code)");
    const archive = await Archive.open(archiveDir, { mode: "read" });
    try {
      expect(archive.count()).toBe(1772);
      const roots = archive.experiments().filter((e) => e.parentId === null);
      expect(roots.map((e) => e.name)).toEqual(["delta_net"]);
      expect(archive.children(roots[0]!.id)).toHaveLength(213);
      const hhmr = archive.experiments().find((e) => e.name === "delta_net_hhmr")!;
      expect(hhmr.change).toMatchObject({ index: 1735, parent: 1544 });
      expect(archive.getExperiment(hhmr.parentId!)!.change).toMatchObject({ index: 1544 });
      expect(hhmr.stages.verify!.metrics).toMatchObject({ loss: 3.3998, benchmark: 0.3979 });
      expect(archive.lineage(hhmr.id).length).toBeGreaterThan(3);
      expect(await archive.readText(hhmr.id, "motivation")).toMatch(/^This evolution, DeltaNet-HHMR/);
      // Two imported programs that share a committed ancestor line diff through git.
      const withCode = archive.experiments().filter((e) => e.commit);
      expect(withCode).toHaveLength(8);
      expect(await archive.diff(withCode[0]!.id, withCode[1]!.id)).toMatch(/^diff --git a\/layer\.py b\/layer\.py/);
    } finally {
      await archive.close();
    }
  });
});
