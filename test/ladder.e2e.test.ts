// The ladder end to end (issue 14): a two-rung campaign (proxy tiny → lm tiny) through the real CLI and
// harness. The rule is loose (top: 1) so the candidate climbs: it is confirmed on a fresh seed first, the
// decision and its reasons are recorded, the lm rung trains against its own baseline, and show/ls display it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { withArchive } from "../src/archive/archive.ts";
import type { Experiment } from "../src/contracts/experiment.ts";
import { PROJECT_ROOT } from "../src/paths.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-ladder-"));
const archiveDir = path.join(tmp, "archive");
const cli = (args: string[]) => execa("node", [CLI, ...args], { reject: false, cwd: tmp, all: true });

const experiments = () => withArchive(archiveDir, { mode: "read" }, (archive) => archive.experiments());

describe("a two-rung ladder campaign", () => {
  let run: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    fs.writeFileSync(path.join(tmp, "a.txt"), "The jury said it did find that many of the voters were registered. ".repeat(300));
    fs.writeFileSync(path.join(tmp, "b.txt"), "Held-out text from another file, for validation only. ".repeat(60));
    const prepared = await cli(["data", "prepare", tmp, "--out", path.join(tmp, "tok"), "--tokenizer", "byte", "--val-split", "0.1"]);
    expect(prepared.exitCode, prepared.all).toBe(0);
    fs.writeFileSync(path.join(tmp, "ladder.yaml"), [
      "name: ladder-e2e",
      "stages:",
      "  - stage: probe",
      "  - {stage: proxy, preset: tiny, baseline_seeds: 2, promote: {top: 1}}",
      `  - {stage: lm, preset: tiny, baseline_seeds: 2, data: ${JSON.stringify(path.join(tmp, "tok"))}}`,
      "confirm: {top: 0, seeds: 1}", "",
    ].join("\n"));
    run = await cli(["run", "ladder.yaml", "--archive", archiveDir, "--budget", "1"]);
  }, 400_000);

  it("promotes on the rule, confirms on a fresh seed, records the decision and trains the next rung", async () => {
    expect(run.exitCode, run.all).toBe(0);
    const [seed] = await experiments();
    expect(seed!.status).toBe("done");
    // the first rung's result is the experiment's fitness; the lm rung has its own, against its own baseline
    expect(seed!.rungs!.map((r) => [r.rung, r.stage, r.preset, r.level, r.status])).toEqual([["proxy", "proxy", "tiny", 0, "ok"], ["lm", "lm", "tiny", 1, "ok"]]);
    expect(seed!.rungs![0]!.fitness).toEqual(seed!.fitness);
    const lm = seed!.rungs![1]!;
    expect(Number.isFinite(lm.fitness!.value)).toBe(true);
    expect(lm.fitness!.inputs.loss).toBe(seed!.stages.lm!.metrics.eval_loss);
    expect(lm.fitness!.inputs.baselineLoss).not.toBe(seed!.fitness!.inputs.baselineLoss);
    expect(["better", "worse", "within noise"]).toContain(lm.verdict);
    expect(seed!.stages.lm!.runDir).toBe(path.join(archiveDir, "runs", seed!.id, "lm"));
    expect(fs.existsSync(path.join(seed!.stages.lm!.runDir, "result.json"))).toBe(true);
    // confirmed on a seed that never selected it, before the climb; the decision says why
    const c = seed!.confirmations!;
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ stage: "proxy", preset: "tiny", seeds: [1000], excludedSeeds: [0, 1] });
    const [d] = seed!.promotions!;
    expect(d).toMatchObject({ from: "proxy", to: "lm", promoted: true, confirmation: c[0]!.verdict });
    expect(d!.reasons).toEqual(["top 1: rank 1 of 1 (needs ≤ 1): pass", `confirmation on fresh seeds: ${c[0]!.verdict} (recorded; the rule does not ask beats_baseline)`]);
    // each rung's baseline trained on its own seeds, with its own noise floor
    expect(fs.readdirSync(path.join(archiveDir, "baselines", "runs", "lm-tiny")).sort()).toEqual(["seed0", "seed1"]);
    expect(fs.readdirSync(path.join(archiveDir, "baselines")).filter((f) => f.startsWith("noise-"))).toHaveLength(2);
    expect(run.all).toContain(`${seed!.id} delta_net: promoted proxy → lm (top 1: rank 1 of 1 (needs ≤ 1): pass; confirmation on fresh seeds: ${c[0]!.verdict}`);
    expect(run.all).toMatch(/baseline on lm trained: /);
  });

  it("show and ls display the rung results and the promotion decision", async () => {
    const [seed] = await experiments();
    const show = await cli(["show", seed!.id, "--archive", archiveDir]);
    expect(show.exitCode, show.all).toBe(0);
    expect(show.stdout).toContain("ladder      reached lm");
    expect(show.stdout).toMatch(/ {2}proxy {5}proxy tiny · ok · fitness -?\d/);
    expect(show.stdout).toMatch(/ {2}lm {8}lm tiny · ok · fitness -?\d.* vs its baseline/);
    expect(show.stdout).toContain("            promoted proxy → lm: top 1: rank 1 of 1 (needs ≤ 1): pass; confirmation on fresh seeds:");
    const ls = await cli(["ls", "--archive", archiveDir]);
    expect(ls.stdout).toMatch(/fitness +band +rung +confirmed/);
    expect(ls.stdout).toMatch(new RegExp(`${seed!.id} .* lm -?\\d+\\.?\\d* `));
    expect(ls.stdout).toContain("rung: the highest ladder rung reached");
    const json = JSON.parse((await cli(["ls", "--archive", archiveDir, "--json"])).stdout) as Experiment[];
    expect(json[0]!.promotions![0]!.promoted).toBe(true);
  }, 60_000);
});
