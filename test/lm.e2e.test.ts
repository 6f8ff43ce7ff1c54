// The LM stage end to end: `archlab data prepare` then `archlab evaluate --stage lm` through the real CLI and
// harness; a run SIGKILLed mid-way resumes from its checkpoint on the next run in the same directory with the
// curve of an uninterrupted run.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult } from "../src/contracts/result.ts";
import { PROJECT_ROOT } from "../src/paths.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const LAYER = path.join(PROJECT_ROOT, "experiments", "layers", "delta_net.py");
let tmp: string;
let sha: string;

const archlab = (args: string[]) => execa("node", [CLI, ...args], { reject: false, cwd: tmp });
const evaluateArgs = (out: string) => ["evaluate", LAYER, "--stage", "lm", "--preset", "tiny", "--data", path.join(tmp, "tok"), "--no-baseline", "--out", out];
const resultOf = (dir: string) => RunResult.parse(JSON.parse(fs.readFileSync(path.join(dir, "result.json"), "utf8")));

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-lm-"));
  fs.writeFileSync(path.join(tmp, "a.txt"), "The jury said it did find that many of the voters were registered. ".repeat(300));
  fs.writeFileSync(path.join(tmp, "b.txt"), "Held-out text from another file, for validation only. ".repeat(60));
  const run = await archlab(["data", "prepare", tmp, "--out", path.join(tmp, "tok"), "--tokenizer", "byte", "--val-split", "0.1"]);
  expect(run.exitCode, run.stderr).toBe(0);
  sha = /manifest sha256 ([0-9a-f]{64})/.exec(run.stdout)![1]!;
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("archlab evaluate --stage lm", () => {
  it("trains on the prepared tokens and reports held-out loss, perplexity and the recall benchmark", async () => {
    const run = await archlab(evaluateArgs(path.join(tmp, "whole")));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(`token data: manifest sha256 ${sha}`);
    const result = resultOf(path.join(tmp, "whole"));
    expect(result.status).toBe("ok");
    expect(result.metrics.eval_loss).toBe(result.metrics["tokens/loss"]);
    expect(result.metrics["tokens/ppl"]).toBeCloseTo(Math.exp(result.metrics["tokens/loss"]!), 6);
    expect(result.metrics.score).toBe(result.metrics["mqar/acc"]);
    expect(result.curve).toHaveLength(20);
  }, 120_000);

  it("resumes a SIGKILLed run from its checkpoint with the uninterrupted run's curve", async () => {
    const out = path.join(tmp, "killed");
    const child = execa("node", [CLI, ...evaluateArgs(out)], { reject: false, cwd: tmp });
    const checkpoint = path.join(out, "work", "checkpoint.pt"); // the candidate process writes only work/ (README Safety)
    while (!fs.existsSync(checkpoint) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await child;
    expect(fs.existsSync(checkpoint)).toBe(true);
    expect(fs.existsSync(path.join(out, "result.json"))).toBe(false);
    const again = await archlab(evaluateArgs(out));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(resultOf(out).curve).toEqual(resultOf(path.join(tmp, "whole")).curve);
    expect(resultOf(out).metrics).toEqual(resultOf(path.join(tmp, "whole")).metrics);
  }, 120_000);

  it("refuses a directory that is not prepared token data, and --data on another stage", async () => {
    const run = await archlab(["evaluate", LAYER, "--stage", "lm", "--preset", "tiny", "--data", tmp, "--no-baseline"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^archlab: .* holds no manifest.json \(make one with `archlab data prepare`\)$/);
    const other = await archlab(["evaluate", LAYER, "--stage", "proxy", "--data", tmp]);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toBe("archlab: --data applies to the lm stage (the proxy stage takes --corpus)");
  }, 60_000);
});
