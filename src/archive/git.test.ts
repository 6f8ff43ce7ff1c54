import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Archive } from "./archive.ts";
import { syntheticExperiment } from "./fixtures.ts";
import { GIT_DIR } from "./git.ts";

let dir: string;
let archive: Archive;

const SEED = "class DeltaNet:\n    def forward(self, x):\n        return x\n";
const CHILD = "class DeltaNet:\n    def forward(self, x):\n        return x * 2\n";

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-git-"));
  archive = await Archive.open(dir, { mode: "write" });
});

afterEach(async () => {
  await archive.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("git provenance", () => {
  it("commits a child on top of its parent's commit, seeds on the shared root, and diffs them", async () => {
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001" }));
    await archive.insertExperiment(syntheticExperiment(2, "e000001", { id: "e000002" }));
    await archive.insertExperiment(syntheticExperiment(3, null, { id: "e000003" }));
    const seed = await archive.commitCandidate("e000001", SEED, "delta: the seed layer", null);
    const child = await archive.commitCandidate("e000002", CHILD, "delta-x2: doubles the output\n\nmore detail", seed);
    const other = await archive.commitCandidate("e000003", SEED, "another seed", null);

    expect(archive.getExperiment("e000002")).toMatchObject({ commit: child, codeHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const git = simpleGit({ baseDir: path.join(dir, GIT_DIR) });
    const parents = async (sha: string) => (await git.raw(["rev-list", "--parents", "-n", "1", sha])).trim().split(" ").slice(1);
    expect(await parents(child)).toEqual([seed]);
    const [root] = await parents(seed);
    expect(await parents(other)).toEqual([root]);
    expect((await git.raw(["log", "--format=%s", "-n", "1", child])).trim()).toBe("delta-x2: doubles the output");
    expect(await git.raw(["show", `${child}:layer.py`])).toBe(CHILD);
    expect((await git.raw(["rev-parse", "refs/archlab/e000002"])).trim()).toBe(child);

    const diff = await archive.diff("e000001", "e000002");
    expect(diff).toContain("--- a/layer.py");
    expect(diff).toContain("-        return x\n+        return x * 2");

    await archive.tagPromoted("e000002", "promoted/proxy/e000002");
    expect(await archive.tags("e000002")).toEqual(["promoted/proxy/e000002"]);
    await expect(archive.tagPromoted("e000002", "bad..tag")).rejects.toThrow(/not a valid git tag/);
  });

  it("diffs code files when the candidates have no commits", async () => {
    const a = await archive.putCode(SEED);
    const b = await archive.putCode(CHILD);
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001", codeHash: a }));
    await archive.insertExperiment(syntheticExperiment(2, null, { id: "e000002", codeHash: b }));
    const diff = await archive.diff("e000001", "e000002");
    expect(diff).toContain("+        return x * 2");
    await archive.insertExperiment(syntheticExperiment(3, null, { id: "e000003" }));
    await expect(archive.diff("e000001", "e000003")).rejects.toThrow(/e000003 has no code/);
  });

  it("rejects a parent commit that is not in the archive's repository", async () => {
    await expect(archive.commitCandidate("e000009", SEED, "x", "0".repeat(40))).rejects.toThrow(/not in the archive's git repository/);
  });
});
