// `npx tsx bench/evaluator.ts [--preset quick] [--rounds 1]`: what the trusted evaluator and the sandbox cost on
// one proxy run of the DeltaNet baseline, measured side by side on this machine. "in-process" is the harness
// as it was before issue 15: one interpreter that trains and scores itself (harness.run.run without a channel).
// The others are real runs through runHarness: evaluator + candidate process, unsandboxed and in bubblewrap.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { EXPERIMENTS_DIR } from "../src/paths.ts";
import { runHarness } from "../src/runner/harness.ts";
import { findPython } from "../src/runner/python.ts";
import { sandboxAvailable, type SandboxMode } from "../src/runner/sandbox.ts";
import { stageSpec } from "../src/runner/stages.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const preset = arg("preset", "quick") as "tiny" | "quick" | "full";
const rounds = Number(arg("rounds", "1"));
const layer = path.join(EXPERIMENTS_DIR, "layers", "delta_net.py");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-evaluator-"));
const spec = (dir: string) => stageSpec({ stage: "proxy", layerPath: layer, className: "DeltaNet", runDir: dir, proxy: { preset } });

const IN_PROCESS = `import json, sys
from harness.run import run
from harness.spec import parse_spec
result = run(parse_spec(json.load(open(sys.argv[1]))), lambda event: None)
print(json.dumps({"status": result["status"], "score": result["metrics"].get("score")}))`;

async function inProcess(dir: string): Promise<{ s: number; score: number }> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "spec.json"), JSON.stringify(spec(dir)));
  const started = performance.now();
  const out = await execa(findPython(), ["-c", IN_PROCESS, path.join(dir, "spec.json")], { cwd: EXPERIMENTS_DIR, env: { PYTHONPATH: EXPERIMENTS_DIR } });
  return { s: (performance.now() - started) / 1000, score: JSON.parse(out.stdout.trim().split("\n").pop()!).score };
}

const modes: SandboxMode[] = ["none", ...(sandboxAvailable() ? (["bwrap"] as const) : [])];
const rows: string[] = [];
for (let round = 1; round <= rounds; round++) {
  const base = await inProcess(path.join(tmp, `in-process-${round}`));
  rows.push(`round ${round}  in-process          ${base.s.toFixed(2)} s  score ${base.score.toFixed(4)}`);
  for (const sandbox of modes) {
    const dir = path.join(tmp, `${sandbox}-${round}`);
    const run = await runHarness(spec(dir), { runDir: dir, sandbox, onWarning: () => {} });
    const pct = (100 * (run.processS - base.s)) / base.s;
    rows.push(`round ${round}  evaluator+${sandbox.padEnd(5)}     ${run.processS.toFixed(2)} s  score ${(run.result.metrics.score ?? NaN).toFixed(4)}  overhead ${pct >= 0 ? "+" : ""}${pct.toFixed(1)}% (target <= 5%)`);
  }
}
process.stdout.write(`proxy preset ${preset}, DeltaNet, CPU, spawn to exit:\n${rows.join("\n")}\n`);
fs.rmSync(tmp, { recursive: true, force: true });
