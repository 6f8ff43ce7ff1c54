/**
 * `archlab confirm` stops the way `run` does (src/cli/signals.ts): a signal mid-training stops the harness
 * child, records nothing half-done, says how to confirm the rest and exits 128 + the signal's number; `--seeds`
 * goes through the same flag parser as `run --confirm-seeds`. Real harness children (tiny preset).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../archive/archive.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { CampaignConfig } from "../campaign/config.ts";
import { PROJECT_ROOT } from "../paths.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
let tmp: string;
let dir: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-confirm-cli-"));
  dir = path.join(tmp, "archive");
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  try {
    const config = CampaignConfig.parse({ archive: dir, stages: { proxy: { preset: "tiny" } } });
    await archive.insertCampaign({ id: "c000001", name: "test", config: config as unknown as Record<string, unknown> });
    for (const n of [1, 2]) {
      await archive.insertExperiment(syntheticExperiment(n, null, { id: `e00000${n}`, genomeKey: null }));
      const code = fs.readFileSync(path.join(PROJECT_ROOT, "experiments", "layers", "delta_net.py"), "utf8");
      await archive.commitCandidate(`e00000${n}`, code, "the baseline layer", null);
    }
  } finally {
    await archive.close();
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("archlab confirm", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("stops on %s: exit 128 + n, nothing recorded, the rest named", async (signal) => {
    const child = execa("node", [CLI, "confirm", "e000001", "e000002", "--seeds", "2", "--archive", dir], { reject: false, cwd: tmp });
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/e000001: training candidate on fresh seed/.test(stderr)) resolve();
      });
      void child.then(() => reject(new Error(`confirm ended before training: ${stderr}`)));
    });
    await new Promise((r) => setTimeout(r, 500));
    child.kill(signal);
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(signal === "SIGINT" ? 130 : 143);
    expect(result.stderr).toContain(`archlab: ${signal}: stopping; confirmations finished so far are recorded; the rest are not`);
    expect(result.stderr).toContain(`archlab: to confirm the rest: archlab confirm e000001 e000002 --seeds 2 --archive ${dir}`);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack
    const archive = await Archive.open(dir, { mode: "read" });
    try {
      expect(archive.getExperiment("e000001")!.confirmations ?? []).toEqual([]);
    } finally {
      await archive.close();
    }
  }, 120_000);

  it("--seeds 0, 101 or two is one line, exit 2, as for run --confirm-seeds", async () => {
    const values = ["0", "101", "two"];
    const cli = (args: string[]) => execa("node", [CLI, ...args, "--archive", dir], { reject: false, cwd: tmp });
    const [confirms, runs] = await Promise.all([
      Promise.all(values.map((v) => cli(["confirm", "e000001", "--seeds", v]))),
      Promise.all(values.map((v) => cli(["run", "--confirm-seeds", v]))),
    ]);
    values.forEach((v, i) => {
      expect([confirms[i]!.exitCode, confirms[i]!.stderr.trim()]).toEqual([2, `archlab: --seeds must be an integer from 1 to 100, not "${v}"`]);
      expect([runs[i]!.exitCode, runs[i]!.stderr.trim()]).toEqual([2, `archlab: --confirm-seeds must be an integer from 1 to 100, not "${v}"`]);
    });
  }, 60_000);
});
