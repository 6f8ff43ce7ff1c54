// `archlab run` with every stage going through sbatch to a real single-node Slurm (test/support/slurm.ts):
// jobs complete; a job scancel'd from outside is recorded cancelled with the reason; the orchestrator SIGKILLed
// while a job runs is restarted and re-attaches to it, never resubmitting (sbatch calls counted by a shim).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../src/archive/archive.ts";
import { TERMINAL_STATUSES, type Experiment } from "../src/contracts/experiment.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { sbatchCounter, slurmUnavailable, startSlurm, type LocalSlurm } from "./support/slurm.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const unavailable = slurmUnavailable();
if (unavailable) console.warn(`SKIPPED test/slurm.e2e.test.ts: ${unavailable}`);

let slurm: LocalSlurm;
let tmp: string;
let env: Record<string, string>;
let counter: ReturnType<typeof sbatchCounter>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** sbatch's --chdir (the run dir) of every call, in order. */
const sbatchDirs = (): string[] => counter.calls().map((l) => /--chdir=(\S+)/.exec(l)![1]!);

/** Jobs Slurm is running now, with their work dirs (= run dirs). */
async function running(): Promise<{ id: string; dir: string }[]> {
  const out = await execa("squeue", ["-h", "-t", "RUNNING", "-o", "%i %Z"], { env, reject: false });
  return out.stdout.split("\n").filter(Boolean).map((l) => {
    const [id, dir] = l.trim().split(/\s+/);
    return { id: id!, dir: dir! };
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 240_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.skipIf(unavailable !== null)("archlab run on Slurm", () => {
  beforeAll(async () => {
    slurm = await startSlurm({ cpus: 2 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-slurm-e2e-"));
    counter = sbatchCounter(tmp);
    env = { ...slurm.env, PATH: `${counter.bin}:${process.env.PATH}` };
  });
  afterAll(async () => {
    await slurm?.stop();
  });

  it("runs the stages as jobs; scancel is recorded as cancelled; kill -9 + restart re-attaches without resubmitting", async () => {
    const archiveDir = path.join(tmp, "archive");
    const runner = "{kind: slurm, poll_s: 1, mem: 1G, time: '10'}";
    const file = path.join(tmp, "campaign.yaml");
    fs.writeFileSync(file, [
      "name: on-slurm", `archive: ${archiveDir}`, "budget: {experiments: 3}", "parallel: 1",
      "stages:", `  probe: {runner: ${runner}}`, `  proxy: {preset: tiny, runner: ${runner}}`, "",
    ].join("\n"));
    const start = (): ResultPromise => execa("node", [CLI, "run", file], { env, reject: false, cwd: tmp });

    const first = start();
    // The second experiment's first job: cancelled from outside, as a user or an admin would.
    const victim = await until("a job of e000002", async () => (await running()).find((j) => j.dir.includes(`${path.sep}e000002${path.sep}`)));
    await execa("scancel", [victim.id], { env });
    // Then the orchestrator dies (power cut) while the third experiment's job runs.
    const inFlight = await until("a job of e000003", async () => (await running()).find((j) => j.dir.includes(`${path.sep}e000003${path.sep}`)));
    first.kill("SIGKILL");
    expect((await first).signal).toBe("SIGKILL");
    const callsBefore = sbatchDirs().length;

    const second = await start();
    expect(second.exitCode, String(second.stderr)).toBe(0);

    const archive = await Archive.open(archiveDir, { mode: "read" });
    let exps: Experiment[];
    try {
      exps = archive.experiments();
    } finally {
      await archive.close();
    }
    expect(exps.map((e) => e.id)).toEqual(["e000001", "e000002", "e000003"]);
    expect(exps.every((e) => TERMINAL_STATUSES.includes(e.status))).toBe(true);
    const [seed, cancelled, resumed] = exps as [Experiment, Experiment, Experiment];

    // Jobs complete: the seed's probe and proxy ran as Slurm jobs, recorded on the experiment.
    expect(seed.status).toBe("done");
    expect(seed.jobs!.map((j) => [j.stage, j.state])).toEqual([["probe", "COMPLETED"], ["proxy", "COMPLETED"]]);
    expect(seed.stages.proxy!.metrics.score).toBeGreaterThanOrEqual(0);

    expect(cancelled.status).toMatch(/failed|rejected/);
    expect(cancelled.reason).toMatch(new RegExp(`cancelled: slurm job ${victim.id} was cancelled outside archlab`));
    expect(cancelled.jobs!.find((j) => j.jobId === victim.id)!.state).toBe("CANCELLED");

    // Re-attached, not resubmitted: the in-flight job is on the experiment once, re-attached, finished.
    const job = resumed.jobs!.find((j) => j.jobId === inFlight.id)!;
    expect(job.reattached).toBeGreaterThanOrEqual(1);
    expect(job.state).toBe("COMPLETED");
    const dirs = sbatchDirs();
    expect(dirs.length).toBeGreaterThan(callsBefore - 1);
    expect(new Set(dirs).size).toBe(dirs.length); // one sbatch per run dir, ever
    expect(dirs.slice(callsBefore)).not.toContain(inFlight.dir);
    // Every job Slurm ran was an sbatch call of ours: the count matches the controller's own.
    const all = await execa("squeue", ["-h", "-t", "all", "-o", "%i"], { env });
    expect(all.stdout.split("\n").filter(Boolean)).toHaveLength(dirs.length);
  }, 600_000);
});
