// `archlab evaluate` end to end: the real CLI, a real harness child, real result files on temp dirs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import { RunResult } from "../src/contracts/result.ts";
import { runHarness } from "../src/runner/harness.ts";
import { sandboxAvailable } from "../src/runner/sandbox.ts";
import { stageSpec } from "../src/runner/stages.ts";
import { PROJECT_ROOT } from "../src/paths.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "layers");

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-evaluate-"));
});

/** Alive and not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function archlab(args: string[], env: Record<string, string> = {}) {
  return execa("node", [CLI, ...args], { reject: false, env, cwd: tmp });
}

describe("archlab evaluate", () => {
  it("trains a layer file and prints the result JSON alone with --json", async () => {
    const run = await archlab(["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--json", "--out", path.join(tmp, "run")]);
    expect(run.exitCode).toBe(0);
    const result = RunResult.parse(JSON.parse(run.stdout));
    expect(result.status).toBe("ok");
    expect(result.curve).toHaveLength(20);
    expect(result.curve.every((p) => p.loss !== null && Number.isFinite(p.loss))).toBe(true);
    expect(result.params!.total).toBeGreaterThan(result.params!.mixer);
    expect(fs.existsSync(path.join(tmp, "run", "result.json"))).toBe(true);
    expect(fs.existsSync(path.join(tmp, "run", "spec.json"))).toBe(true);
  });

  it("prints a readable summary and progress lines without --json", async () => {
    const run = await archlab(["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--out", path.join(tmp, "run")]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/tiny_causal\.py · smoke · ok/);
    expect(run.stdout).toMatch(/loss [\d.]+ → [\d.]+ over 20 steps/);
    expect(run.stderr).toMatch(/step 20\/20  loss [\d.]+  [\d.]+[kM]? tok\/s  ETA \d+s/); // rate and ETA measured from step 1
  });

  it("gives the same loss curve for the same seed", async () => {
    const curves = [];
    for (const name of ["a", "b"]) {
      const run = await archlab(["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--json", "--seed", "3", "--out", path.join(tmp, name)]);
      curves.push(RunResult.parse(JSON.parse(run.stdout)).curve.map((p) => p.loss));
    }
    expect(curves[0]).toEqual(curves[1]);
  });

  it.each([
    [["evaluate", "/no/such/layer.py"], /^archlab: no such file: \/no\/such\/layer\.py$/],
    [["evaluate", path.join(PROJECT_ROOT, "package.json")], /^archlab: not a Python file/],
    [["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--stage", "warp"], /^archlab: unknown stage "warp"/],
    [["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--kwargs", "{oops"], /^archlab: --kwargs is not valid JSON/],
    [["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--device", "tpu"], /^archlab: --device must be/],
    [["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--seeds", "0"], /^archlab: --seeds must be a positive integer/],
    [["evaluate", path.join(FIXTURES, "tiny_causal.py"), "--stage", "proxy", "--baseline", "nope.py"], /^archlab: no such baseline file: nope\.py$/],
  ])("rejects a user mistake in one line with exit 2: %j", async (args, message) => {
    const run = await archlab(args);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reports a syntax error with its line, exit 1, no stack trace", async () => {
    const run = await archlab(["evaluate", path.join(FIXTURES, "syntax_error.py"), "--out", path.join(tmp, "run")]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/rejected/);
    expect(run.stdout).toMatch(/error \(syntax\): syntax error at line 5/);
    expect(run.stdout + run.stderr).not.toMatch(/Traceback/);
  });

  it("runs several seeds of the proxy stage against a cached baseline and gives the noise-aware verdict on the difference", async () => {
    const layers = path.join(PROJECT_ROOT, "experiments", "layers");
    const args = ["evaluate", path.join(layers, "linear_attention.py"), "--class", "LinearAttention", "--stage", "proxy",
      "--preset", "tiny", "--seeds", "2", "--seed", "4", "--json", "--baseline-cache", path.join(tmp, "cache")];
    const first = await archlab([...args, "--out", path.join(tmp, "a")]);
    expect(first.exitCode).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.results.map((r: RunResult) => r.env.seed)).toEqual([4, 5]);
    expect(a.baseline.layer).toBe(path.join(layers, "delta_net.py"));
    expect(a.baseline.results.map((r: RunResult) => r.env.seed)).toEqual([4, 5]);
    expect(a.baseline.cached).toEqual([]);
    const score = a.comparison.find((row: { metric: string }) => row.metric === "score");
    const perSeed = [0, 1].map((i) => a.results[i].metrics.score - a.baseline.results[i].metrics.score);
    expect(score.difference.mean).toBeCloseTo((perSeed[0]! + perSeed[1]!) / 2, 10);
    expect(score.difference.std).toBeCloseTo(Math.abs(perSeed[0]! - perSeed[1]!) / Math.SQRT2, 10);
    // The rule `archlab confirm` and the analyst use: the floor is the baseline's std over the seeds, the band
    // k = 2 standard errors of the mean paired difference (the pairs' std never below a tenth of the floor).
    const baseScores = a.baseline.results.map((r: RunResult) => r.metrics.score as number);
    expect(score.floor).toBeCloseTo(Math.max(Math.abs(baseScores[0] - baseScores[1]) / Math.SQRT2, 1e-3 * Math.abs((baseScores[0] + baseScores[1]) / 2)), 10);
    expect(score.band).toBeCloseTo((2 * Math.max(score.difference.std, 0.1 * score.floor)) / Math.SQRT2, 10);
    expect(score.verdict).toBe(Math.abs(score.difference.mean) > score.band ? (score.difference.mean > 0 ? "better" : "worse") : "within noise");
    expect(fs.readdirSync(path.join(tmp, "cache")).filter((f) => f.endsWith(".json"))).toHaveLength(2);

    // Again, as a human reads it: the baseline comes from the cache, the candidate's numbers repeat exactly.
    const second = await archlab([...args.filter((x) => x !== "--json"), "--out", path.join(tmp, "b")]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toMatch(/linear_attention\.py seed 5 · proxy · ok/);
    expect(second.stdout).toMatch(/delta_net\.py \(DeltaNet, seeds 4,5 from the cache\) over seeds 4,5/);
    expect(second.stdout).toMatch(/score ↑ +[\d.]+ ± [\d.]+ +[\d.]+ ± [\d.]+ +[-+][\d.]+ ± [\d.]+ +(better|worse|within noise) \(band ±[\d.]+\)/);
    expect(second.stderr).not.toMatch(/baseline delta_net/);
    const b = JSON.parse(fs.readFileSync(path.join(tmp, "b", "seed5", "result.json"), "utf8"));
    expect(b.metrics).toEqual(a.results[1].metrics);
  });

  it("fails with a one-line error when the Python environment is missing", async () => {
    const run = await archlab(["evaluate", path.join(FIXTURES, "tiny_causal.py")], { ARCHLAB_PYTHON: "/no/python" });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe("archlab: ARCHLAB_PYTHON points to /no/python, which does not exist");
  });
});

describe("runHarness", () => {
  it("kills the whole process tree when the harness cannot time itself out", async () => {
    const runDir = path.join(tmp, "run");
    const spec = stageSpec({ stage: "smoke", layerPath: path.join(FIXTURES, "ignores_alarm.py"), className: "DeltaNet", runDir, timeoutS: 2 });
    const started = Date.now();
    // unsandboxed, so the grandchild's pid is the host's (a sandboxed run's pid namespace ends with it: test/attacks)
    const run = await runHarness(spec, { runDir, graceSeconds: 1, sandbox: "none", onWarning: () => {} });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.result.status).toBe("timeout");
    expect(run.result.error?.message).toMatch(/killed after 2 s/);
    const grandchild = Number(/GRANDCHILD_PID=(\d+)/.exec(fs.readFileSync(run.logPath, "utf8"))?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    for (let i = 0; i < 50 && running(grandchild); i++) await new Promise((r) => setTimeout(r, 100));
    expect(running(grandchild)).toBe(false);
  });

  it.runIf(sandboxAvailable())("runs the candidate in a sandbox: no secrets, no writes outside its run directory", async () => {
    const layerDir = path.join(tmp, "layers");
    fs.mkdirSync(layerDir);
    fs.copyFileSync(path.join(FIXTURES, "snoops.py"), path.join(layerDir, "snoops.py"));
    const runDir = path.join(tmp, "run");
    const spec = stageSpec({ stage: "smoke", layerPath: path.join(layerDir, "snoops.py"), className: "DeltaNet", runDir });
    process.env.OPENAI_API_KEY = "sk-test-secret";
    try {
      const run = await runHarness(spec, { runDir });
      expect(run.sandboxed).toBe(true);
      expect(run.result.error?.kind).toBe("construct");
      expect(run.result.error?.message).toMatch(/secrets=\[\] write=/); // a write lands in the sandbox's own tmpfs at most
      expect(fs.existsSync(path.join(tmp, "snoop-was-here"))).toBe(false);
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });
});
