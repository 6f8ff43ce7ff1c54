// `archlab run` end to end: real campaigns (tiny proxy preset) on temp archives, real harness children,
// a stop by SIGTERM and its resume, a second writer refused by the lock (SIGKILL/SIGINT/SIGTERM at every step:
// test/signals.e2e.test.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TERMINAL_STATUSES } from "../src/contracts/experiment.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { experimentsIn } from "./support/archive.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");

let tmp: string;
let archiveDir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-campaign-"));
  archiveDir = path.join(tmp, "archive");
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  // No end-of-campaign confirmation here (it is test/confirm.e2e.test.ts's subject, and costs runs).
  return execa("node", [CLI, "run", "--archive", archiveDir, "--preset", "tiny", "--confirm", "0", ...args], { reject: false, env, cwd: tmp });
}

const experiments = () => experimentsIn(archiveDir);

describe("archlab run", () => {
  it("runs a budgeted campaign: seed first, then children with fitness, parents, analysis", async () => {
    const first = await run(["--budget", "3"]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/3 experiments finished; budget of 3 experiments reached/);
    const exps = await experiments();
    expect(exps).toHaveLength(3);
    expect(exps[0]!.proposer).toBe("seed");
    expect(exps[0]!.parentId).toBeNull();
    // The seed is the baseline design: it must pass the probes and train, so a run where everything is
    // rejected fails here rather than passing the loop below vacuously.
    expect(exps[0]!.status, exps[0]!.reason ?? "").toBe("done");
    for (const e of exps) {
      expect(TERMINAL_STATUSES).toContain(e.status);
      if (e.status === "done") {
        const metrics = e.stages.proxy!.metrics;
        expect(Number.isFinite(e.fitness!.value)).toBe(true); // noise units: 0 is the baseline
        expect(e.fitness!.band).toBeGreaterThan(0);
        expect(e.fitness!.inputs.baselineLoss).toBeGreaterThan(0);
        // the fitness was computed from this experiment's own proxy numbers
        expect(e.fitness!.inputs.loss).toBe(metrics.eval_loss);
        expect(e.fitness!.inputs.benchmark).toBe(metrics.score);
        expect(Object.keys(e.stages.probe!.probes ?? {}).length).toBeGreaterThan(0);
        expect(metrics.score).toBeGreaterThan(0);
        expect(metrics.score).toBeLessThanOrEqual(1);
      } else {
        expect(e.reason).toBeTruthy();
      }
    }
    const children = exps.slice(1);
    expect(children.every((c) => c.parentId !== null && c.commit !== null)).toBe(true);
    // a finished campaign is closed: the next run is a new campaign with its own budget on the same archive,
    // and reuses the baseline trained once and cached
    const second = await run(["--budget", "1"]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/baseline \(cached\)/);
    const all = await experiments();
    expect(all).toHaveLength(4);
    expect(new Set(all.map((e) => e.campaign)).size).toBe(2);
  }, 600_000);

  it("refuses a second writer with exit 3 while a campaign holds the archive", async () => {
    const holder = run(["--budget", "2"]);
    for (let i = 0; i < 100 && !fs.existsSync(path.join(archiveDir, "writer.json")); i++) await new Promise((r) => setTimeout(r, 100));
    const second = await run(["--budget", "2"]);
    expect(second.exitCode).toBe(3);
    expect(second.stderr.trim()).toMatch(/^archlab: archive .* is locked by pid \d+ since /);
    holder.kill("SIGKILL");
    await holder;
  });

  // kill -9 at each step of the seed and of a child, then resume, is test/signals.e2e.test.ts (it also checks that
  // no process is left and the lock is free); four kill -9 runs here repeated a subset of it.

  it("stops cleanly on SIGTERM and picks the experiment up again on the next run", async () => {
    const child = run(["--budget", "2"]);
    let text = "";
    child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
    for (let i = 0; i < 600 && !/training/.test(text); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    const stopped = await child;
    expect(stopped.exitCode).toBe(143); // 128 + SIGTERM: scripts tell a stopped run from a finished one
    expect(stopped.stderr).toMatch(/will resume on the next run/);
    const resumed = await run(["--budget", "2"]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming 1 unfinished/);
    expect((await experiments()).every((e) => TERMINAL_STATUSES.includes(e.status))).toBe(true);
  }, 300_000);

  it("explains a bad campaign file in one line", async () => {
    const file = path.join(tmp, "c.yaml");
    fs.writeFileSync(file, "budget: {experimentz: 3}\n");
    const bad = await run([file]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe(`archlab: ${file}: unknown key "budget.experimentz"`);
  });
});
