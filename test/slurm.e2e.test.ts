// `archlab run` with every stage going through sbatch to a real single-node Slurm (test/support/slurm.ts):
// jobs complete; a job scancel'd from outside is recorded cancelled with the reason; the orchestrator SIGKILLed
// while a job runs is restarted and re-attaches to it, never resubmitting (sbatch calls counted by a shim); a
// veto, the campaign's SIGTERM and a spent time budget each scancel the job in flight.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_STATUSES, type Experiment } from "../src/contracts/experiment.ts";
import { runCampaign } from "../src/campaign/campaign.ts";
import { loadCampaign } from "../src/campaign/config.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { experimentsIn } from "./support/archive.ts";
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

    const exps = await experimentsIn(archiveDir);
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

  /** A job's state as the controller reports it (finished jobs stay visible for MinJobAge). */
  async function stateOf(id: string): Promise<string | undefined> {
    const out = await execa("scontrol", ["show", "job", "-o", id], { env, reject: false });
    return /JobState=(\S+)/.exec(out.stdout)?.[1];
  }

  /** The state a cancelled or finished job settles in: slurmd reports COMPLETING while it reaps the job's steps. */
  const settledState = (id: string) => until(`job ${id} to leave COMPLETING`, async () => {
    const state = await stateOf(id);
    return state === "COMPLETING" ? undefined : state;
  }, 30_000);

  const proxyOnSlurm = (name: string, budget: string, extra: string[] = []) => {
    const file = path.join(tmp, `${name}.yaml`);
    fs.writeFileSync(file, [
      `name: ${name}`, `archive: ${path.join(tmp, name)}`, `budget: ${budget}`, ...extra,
      "stages:", "  proxy: {preset: tiny, runner: {kind: slurm, poll_s: 1, mem: 1G, time: '10'}}", "",
    ].join("\n"));
    return file;
  };
  const runDirOf = (dir: string) => /[/\\](e\d{6})[/\\]/.exec(dir)?.[1];

  it("a veto scancels the vetoed candidate's job; the campaign's SIGTERM scancels the job in flight", async () => {
    // Two seeds in two slots: both first jobs run at once, before any baseline job.
    const archiveDir = path.join(tmp, "steered");
    const file = proxyOnSlurm("steered", "{experiments: 4}", ["parallel: 2", "proposer: {seeds: [delta_net, retnet]}"]);
    // No SIGKILL 5 s after the SIGTERM (execa's default): stopping takes what scancel and the archive take.
    const campaign = execa("node", [CLI, "run", file], { env, reject: false, cwd: tmp, forceKillAfterDelay: false });
    const [vetoedJob] = await until("jobs of e000001 and e000002 running", async () => {
      const jobs = await running();
      const second = jobs.find((j) => runDirOf(j.dir) === "e000002");
      return second && jobs.some((j) => runDirOf(j.dir) === "e000001") ? [second] : undefined;
    });
    const veto = await execa("node", [CLI, "veto", "e000002", "--why", "not this one", "--archive", archiveDir], { env: { ...env, USER: "tester" }, reject: false });
    expect(veto.exitCode, veto.stderr).toBe(0);
    await until("the vetoed job to be cancelled", async () => ((await stateOf(vetoedJob!.id)) === "CANCELLED" ? true : undefined), 60_000);
    // Another job in flight, not about to end by itself (its harness has not said "done").
    const ending = (j: { id: string; dir: string }) => {
      const file = path.join(j.dir, `slurm-${j.id}.out`);
      return fs.existsSync(file) && fs.readFileSync(file, "utf8").includes('"event": "done"');
    };
    const inFlight = await until("another job in flight", async () => (await running()).find((j) => j.id !== vetoedJob!.id && !ending(j)));
    campaign.kill("SIGTERM");
    const out = await campaign;
    expect(out.exitCode, String(out.stderr)).toBe(143);
    expect(await settledState(inFlight.id)).toBe("CANCELLED");
    expect(await running()).toEqual([]);

    const exps = await experimentsIn(archiveDir);
    const vetoed = exps.find((e) => e.id === "e000002")!;
    expect(vetoed.status).toBe("rejected");
    expect(vetoed.reason).toMatch(/^vetoed by tester .*: not this one$/);
    expect(vetoed.jobs!.find((j) => j.jobId === vetoedJob!.id)).toMatchObject({ state: "CANCELLED", reason: "archlab: e000002 vetoed: scancel" });
    const owner = runDirOf(inFlight.dir); // e000001's proxy job, or (had it finished) a baseline job
    if (owner) {
      const stopped = exps.find((e) => e.id === owner)!;
      expect(TERMINAL_STATUSES).not.toContain(stopped.status); // resumes on the next run
      expect(stopped.jobs!.find((j) => j.jobId === inFlight.id)).toMatchObject({ state: "CANCELLED", reason: "archlab: stopped by SIGTERM: scancel" });
    }
  }, 300_000);

  it("a spent time budget (budget.hours) scancels the job in flight; its experiment resumes next run", async () => {
    const saved = { PATH: process.env.PATH, SLURM_CONF: process.env.SLURM_CONF };
    Object.assign(process.env, env);
    let skew = 0; // the campaign's clock, moved past budget.hours while a job runs
    try {
      const config = loadCampaign(proxyOnSlurm("timed", "{hours: 1}", ["parallel: 1"]), {});
      const run = runCampaign({ config, signal: new AbortController().signal, now: () => new Date(Date.now() + skew) });
      const job = await until("a running job of e000001", async () => (await running()).find((j) => j.dir.includes(`${path.sep}e000001${path.sep}`)));
      skew = 2 * 3_600_000;
      const outcome = await run;
      expect(outcome.stopReason).toBe("reached 1 h");
      expect(outcome.interrupted).toEqual(["e000001"]);
      expect(await settledState(job.id)).toBe("CANCELLED");
      const [exp] = await experimentsIn(path.join(tmp, "timed"));
      expect(exp!.jobs!.find((j) => j.jobId === job.id)).toMatchObject({ state: "CANCELLED", reason: "archlab: reached 1 h: scancel" });
      expect(TERMINAL_STATUSES).not.toContain(exp!.status);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.SLURM_CONF === undefined) delete process.env.SLURM_CONF;
      else process.env.SLURM_CONF = saved.SLURM_CONF;
    }
  }, 300_000);
});
