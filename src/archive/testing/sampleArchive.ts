/**
 * Test helper: a small archive built through the real API (seed, two children, a rejected grandchild, texts,
 * commits, a note), for the read commands' end-to-end tests. Returns the CLI runner too.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll } from "vitest";
import { PROJECT_ROOT } from "../../paths.ts";
import { Archive } from "../archive.ts";
import { syntheticExperiment } from "../fixtures.ts";

export const SEED_CODE = "class DeltaNet:\n    def forward(self, x):\n        return x\n";
export const CHILD_CODE = "class DeltaNet:\n    def forward(self, x):\n        return x * 2\n";

export async function buildSampleArchive(dir: string): Promise<void> {
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  try {
    await archive.insertCampaign({ id: "c000001", name: "test" });
    await archive.insertExperiment(syntheticExperiment(1, null, { id: "e000001", name: "seed-delta" }));
    await archive.insertExperiment(syntheticExperiment(2, "e000001", { id: "e000002", name: "delta-x2", change: { gene: "scale", from: 1, to: 2 } }));
    await archive.insertExperiment(syntheticExperiment(3, "e000001", { id: "e000003", name: "delta-gate" }));
    await archive.insertExperiment(syntheticExperiment(4, "e000002", {
      id: "e000004", name: "delta-x2-leaky", status: "rejected", fitness: null, reason: "probe causality: output at t moved by input at t+1",
      stages: {},
    }));
    const seed = await archive.commitCandidate("e000001", SEED_CODE, "seed-delta: the baseline", null);
    await archive.commitCandidate("e000002", CHILD_CODE, "delta-x2: doubles the output", seed);
    await archive.writeText("e000002", "motivation", "Doubling the output should help.");
    await archive.writeText("e000002", "analysis", "It did not, much.");
    await archive.writeText("e000002", "experience", "Scaling alone is not enough.");
    await archive.addNote({ experimentId: "e000002", text: "look at this one", pinned: true });
  } finally {
    await archive.close();
  }
}

export function archlab(args: string[], cwd = PROJECT_ROOT) {
  return execa("node", [path.join(PROJECT_ROOT, "bin", "archlab.js"), ...args], { reject: false, cwd });
}

/**
 * For one test file: a temp folder made before its tests and removed after them, with the sample archive built
 * in it (at `<dir>/<sub>` when sub is given). Read `dir` and `archive` inside tests, not at module scope.
 */
export function useSampleArchive(prefix: string, sub = ""): { readonly dir: string; readonly archive: string } {
  let dir = "";
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `archlab-${prefix}-`));
    await buildSampleArchive(path.join(dir, sub));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() { return dir; },
    get archive() { return path.join(dir, sub); },
  };
}
