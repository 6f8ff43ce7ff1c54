// Smoke-stage wall time per baseline layer: the cost of the first rung of the ladder.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EXPERIMENTS_DIR } from "../src/paths.ts";
import { runHarness } from "../src/runner/harness.ts";
import { stageSpec } from "../src/runner/stages.ts";

export async function benchSmoke(): Promise<string> {
  const layersDir = path.join(EXPERIMENTS_DIR, "layers");
  const files = fs.readdirSync(layersDir).filter((f) => f.endsWith(".py") && !f.startsWith("_")).sort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-smoke-"));
  const rows = ["| layer | status | process s | harness wall s | train tokens/s |", "|---|---|---|---|---|"];
  for (const file of files) {
    const runDir = path.join(tmp, file);
    const spec = stageSpec({ stage: "smoke", layerPath: path.join(layersDir, file), className: "DeltaNet", runDir });
    const run = await runHarness(spec, { runDir });
    const r = run.result;
    rows.push(`| ${file} | ${r.status} | ${run.processS.toFixed(2)} | ${r.wall_s.toFixed(2)} | ${r.tokens_per_s ? Math.round(r.tokens_per_s) : "-"} |`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return `smoke stage (2 layers, d=64, 20 steps, batch 4 x 64 tokens, CPU)\n${rows.join("\n")}`;
}
