// SlurmRunner against a real single-node Slurm started here (test/support/slurm.ts): real sbatch, scontrol,
// scancel and slurmd running the harness in its sandbox. Skipped, with the reason printed, without slurm.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobRecord } from "../contracts/experiment.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { sbatchCounter, startSlurm, slurmUnavailable, type LocalSlurm } from "../../test/support/slurm.ts";
import { RunnerConfig } from "./runner.ts";
import { MARKER_FILE, queryJob, SlurmRunner, specHashOf } from "./slurm.ts";
import { stageSpec } from "./stages.ts";

const unavailable = slurmUnavailable();
if (unavailable) console.warn(`SKIPPED src/runner/slurm.test.ts: ${unavailable}`);

const TINY = path.join(PROJECT_ROOT, "test", "fixtures", "layers", "tiny_causal.py");
let slurm: LocalSlurm;
let tmp: string;
let counter: ReturnType<typeof sbatchCounter>;
const saved = { PATH: process.env.PATH, SLURM_CONF: process.env.SLURM_CONF };

const sbatchCalls = () => counter.calls().length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A layer that sleeps in its constructor: a job that stays RUNNING until cancelled. */
function slowLayer(): string {
  const file = path.join(tmp, "slow.py");
  fs.writeFileSync(file, "import time\nimport torch.nn as nn\n\nclass DeltaNet(nn.Module):\n    def __init__(self, **kw):\n        super().__init__()\n        time.sleep(120)\n");
  return file;
}

function probeSpec(name: string, layerPath = TINY) {
  const runDir = path.join(tmp, name);
  return { runDir, spec: stageSpec({ stage: "probe", layerPath, className: "DeltaNet", runDir, timeoutS: 200 }) };
}

function runner(cfg: Partial<RunnerConfig> = {}) {
  return new SlurmRunner(RunnerConfig.parse({ kind: "slurm", poll_s: 1, mem: "1G", ...cfg }));
}

async function waitForState(jobId: string, state: string, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const info = await queryJob(jobId);
    if (info?.state === state) return info;
    if (Date.now() > end) throw new Error(`job ${jobId} never reached ${state} (last ${info?.state})`);
    await sleep(200);
  }
}

/** The harness has started inside the job (its first progress line): the batch script's trap is set. */
async function harnessStarted(runDir: string, jobId: string) {
  const out = path.join(runDir, `slurm-${jobId}.out`);
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(out) && fs.readFileSync(out, "utf8").includes('"event": "start"')) return;
    await sleep(100);
  }
  throw new Error(`job ${jobId}: the harness never started`);
}

async function jobIdWhenWritten(runDir: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    try {
      const id = JSON.parse(fs.readFileSync(path.join(runDir, MARKER_FILE), "utf8")).jobId;
      if (id) return id;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error("no job id recorded");
}

describe.skipIf(unavailable !== null)("SlurmRunner on a real slurmd", () => {
  beforeAll(async () => {
    slurm = await startSlurm({ cpus: 2 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-slurm-runner-"));
    counter = sbatchCounter(tmp); // counts sbatch calls in front of the real one
    process.env.PATH = `${counter.bin}:${process.env.PATH}`;
    process.env.SLURM_CONF = slurm.env.SLURM_CONF;
  });
  afterAll(async () => {
    process.env.PATH = saved.PATH;
    if (saved.SLURM_CONF === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = saved.SLURM_CONF;
    await slurm?.stop();
  });

  it("submits one job, records its id before waiting, reads result.json; a second run of the same spec re-attaches", async () => {
    const { runDir, spec } = probeSpec("ok");
    const jobs: JobRecord[] = [];
    const before = sbatchCalls();
    const out = await runner().run(spec, { runDir, onJob: async (j) => { jobs.push(j); } });
    expect(out.result.status, JSON.stringify(out.result.error)).toBe("ok");
    expect(out.result.probes).not.toBeNull();
    expect(sbatchCalls() - before).toBe(1);
    expect(jobs[0]!.state).toBe("SUBMITTED");
    expect(jobs.at(-1)!.state).toBe("COMPLETED");
    const script = fs.readFileSync(path.join(runDir, "job.sh"), "utf8");
    expect(script).toMatch(/env -i /);
    expect(counter.calls().join("\n")).toMatch(/--cpus-per-task=1 .*--mem=1G/);

    // The same spec in the same run dir (an orchestrator restarted after the job ran): no new sbatch.
    const again: JobRecord[] = [];
    const second = await runner().run(spec, { runDir, onJob: async (j) => { again.push(j); } });
    expect(sbatchCalls() - before).toBe(1);
    expect(second.result.status).toBe("ok");
    expect(again[0]).toMatchObject({ jobId: jobs[0]!.jobId, reattached: 1 });
  });

  it("a job scancel'd outside archlab is recorded cancelled with the reason", async () => {
    const { runDir, spec } = probeSpec("cancel", slowLayer());
    const run = runner().run(spec, { runDir });
    const jobId = await jobIdWhenWritten(runDir);
    await waitForState(jobId, "RUNNING");
    await execa("scancel", [jobId]);
    const out = await run;
    expect(out.result.status).toBe("failed");
    expect(out.result.error!.kind).toBe("cancelled");
    expect(out.result.error!.message).toMatch(new RegExp(`slurm job ${jobId} was cancelled outside archlab.*JobState=CANCELLED`));
  });

  it("cancels a job pending longer than max_pending_s, and an aborted run's job; the next run resubmits", async () => {
    const { runDir, spec } = probeSpec("pending");
    const jobs: JobRecord[] = [];
    const out = await runner({ max_pending_s: 2, extra_args: ["--begin=now+3600"] }).run(spec, { runDir, onJob: async (j) => { jobs.push(j); } });
    expect(out.result.error!.kind).toBe("cancelled");
    expect(out.result.error!.message).toMatch(/pending longer than max_pending_s=2 s \(Reason=BeginTime\)/);
    const jobId = jobs[0]!.jobId;
    expect((await queryJob(jobId))!.state).toBe("CANCELLED");

    const slow = probeSpec("abort", slowLayer());
    const controller = new AbortController();
    const run = runner().run(slow.spec, { runDir: slow.runDir, signal: controller.signal });
    const abortedId = await jobIdWhenWritten(slow.runDir);
    await waitForState(abortedId, "RUNNING");
    controller.abort();
    expect((await run).result.error!.message).toBe("run stopped");
    await waitForState(abortedId, "CANCELLED", 20_000);
    // A stopped campaign resumes the run later: a fresh job, not the cancelled one.
    const before = sbatchCalls();
    const resumed = runner({ max_pending_s: 1, extra_args: ["--begin=now+3600"] }).run(slow.spec, { runDir: slow.runDir });
    expect((await resumed).result.error!.kind).toBe("cancelled");
    expect(sbatchCalls() - before).toBe(1);
  });

  it("a job the controller does not know is re-checked, then failed as vanished, never waited on forever", async () => {
    const { runDir, spec } = probeSpec("vanished");
    fs.mkdirSync(runDir, { recursive: true });
    const specHash = specHashOf(spec);
    fs.writeFileSync(path.join(runDir, MARKER_FILE), JSON.stringify({ jobId: "987654", name: "archlab-x", specHash, submittedAt: new Date().toISOString(), abandoned: [] }));
    const before = sbatchCalls();
    const t0 = Date.now();
    const out = await runner().run(spec, { runDir });
    expect(sbatchCalls()).toBe(before);
    expect(out.result.status).toBe("failed");
    expect(out.result.error!.message).toMatch(/slurm job 987654 vanished/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
  });

  it("USR2 mid-training: the run checkpoints, the job is requeued (at most `requeue` times) and resumes from the checkpoint", async () => {
    // The LM rung at its tiny preset (20 steps, checkpoint_every 5) with a layer slowed to ~0.1 s a step, so
    // USR2 lands mid-run; the requeued job waits cred_expire (10 s in the test cluster) and starts again.
    const layer = path.join(tmp, "slow_steps.py");
    fs.writeFileSync(layer, [
      "import time", "import torch", "import torch.nn as nn", "", "class DeltaNet(nn.Module):",
      "    def __init__(self, *, hidden_size, num_heads, layer_idx=None, **kw):", "        super().__init__()",
      "        self.proj = nn.Linear(hidden_size, hidden_size, bias=False)", "",
      "    def forward(self, hidden_states, attention_mask=None, past_key_values=None, use_cache=False, **kw):",
      "        if self.training:", "            time.sleep(0.05)", "        x = self.proj(hidden_states)",
      "        steps = torch.arange(1, x.shape[1] + 1, dtype=x.dtype).view(1, -1, 1)",
      "        return x.cumsum(1) / steps, None, past_key_values", "",
    ].join("\n"));
    const runDir = path.join(tmp, "requeue");
    const spec = stageSpec({ stage: "lm", lm: { preset: "tiny", dataCache: path.join(tmp, "data") }, layerPath: layer, className: "DeltaNet", runDir });
    const jobs: JobRecord[] = [];
    const steps: { step: number; resumed_from?: number }[] = [];
    const starts: unknown[] = [];
    const before = sbatchCalls();
    const run = runner({ requeue: 1 }).run(spec, {
      runDir, onJob: async (j) => { jobs.push(j); },
      onProgress: (e) => {
        if (e.event === "step") steps.push(e as (typeof steps)[number]);
        if (e.event === "start") starts.push(e.timeout_s);
      },
    });
    const jobId = await jobIdWhenWritten(runDir);
    const out = path.join(runDir, `slurm-${jobId}.out`);
    for (let i = 0; i < 600 && !(fs.existsSync(out) && /"event": "(step|done)"/.test(fs.readFileSync(out, "utf8"))); i++) await sleep(100);
    expect(fs.readFileSync(out, "utf8")).toMatch(/"event": "step"/);
    await execa("scancel", ["--signal=USR2", "--batch", jobId]);
    const outcome = await run;
    expect(outcome.result.status, JSON.stringify(outcome.result.error)).toBe("ok");
    expect(sbatchCalls() - before).toBe(1);
    const log = fs.readFileSync(out, "utf8");
    const at = Number(/"event": "checkpointed", "step": (\d+), "checkpoint": true/.exec(log)?.[1]);
    expect(at).toBeGreaterThanOrEqual(5);
    expect(at).toBeLessThan(20);
    expect(log).toMatch(/archlab: checkpointed: requeue 1 of 1/);
    // The requeued attempt starts at the checkpoint's step, not 0; the result is the whole run's, read once.
    const resumed = steps.find((e) => e.resumed_from !== undefined)!;
    expect(resumed).toMatchObject({ step: at + 1, resumed_from: at });
    expect(outcome.result.curve.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(jobs.at(-1)).toMatchObject({ jobId, state: "COMPLETED", restarts: 1 });
    expect(starts).toEqual([spec.timeout_s, spec.timeout_s]); // each attempt's start carries the evaluator's limit
    expect(jobs.every((j) => j.restarts <= 1)).toBe(true);
    expect(fs.existsSync(path.join(runDir, "work", "checkpoint.pt"))).toBe(false); // trained to the end
  });
});
