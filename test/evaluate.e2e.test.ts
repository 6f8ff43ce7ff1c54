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
    expect(run.stderr).toMatch(/step 20\/20/);
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
    const run = await runHarness(spec, { runDir, graceSeconds: 1 });
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
      expect(run.result.error?.message).toMatch(/secrets=\[\] write=blocked/);
      expect(fs.existsSync(path.join(tmp, "snoop-was-here"))).toBe(false);
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });
});
