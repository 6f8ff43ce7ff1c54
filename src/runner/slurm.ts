/**
 * SlurmRunner (DESIGN §8): one `sbatch --parsable` per run; the job id goes to `slurm-job.json` in the run dir
 * and to the experiment (ctx.onJob) before anything waits on it. The job is polled with `scontrol show job`
 * (then `sacct` where accounting exists); a job neither knows is *unknown*, re-checked, and after a while failed
 * as vanished, never taken for running. `scancel` on abort, on pending past max_pending_s, and when a job runs
 * well past the stage's timeout. The result is read from result.json on the shared filesystem, never from logs.
 * Re-attach: a run whose directory already holds a job for the same spec (an orchestrator killed mid-run and
 * restarted) waits for that job instead of submitting another; a job found by its name covers a crash between
 * sbatch returning and the id being written.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { z } from "zod";
import type { JobRecord } from "../contracts/experiment.ts";
import { RunResult } from "../contracts/result.ts";
import { RunSpec } from "../contracts/runSpec.ts";
import { writeFileAtomicSync } from "../atomic.ts";
import { EXPERIMENTS_DIR } from "../paths.ts";
import { CHECKPOINT_EXIT, checkpointInWork, childEnv, harnessArgv, logTail, parseProgress, readResult, synthetic } from "./harness.ts";
import type { RunContext, RunOutcome, Runner, RunnerConfig } from "./runner.ts";
import { endedWithoutResult, jobScript, parseSacct, parseScontrol, phaseOf, sbatchArgs, type JobInfo } from "./slurmJob.ts";

export const MARKER_FILE = "slurm-job.json";

/** What the run dir remembers about its job, so a restarted orchestrator re-attaches instead of resubmitting. */
const Marker = z.object({
  jobId: z.string().nullable(),
  name: z.string(),
  specHash: z.string(),
  submittedAt: z.string(),
  /** Jobs archlab itself cancelled here (a stopped campaign): never re-attached, the run is submitted afresh. */
  abandoned: z.array(z.string()),
});
type Marker = z.infer<typeof Marker>;

/** Seconds a running job may outlive its stage's timeout (the harness enforces the timeout itself). */
const STUCK_GRACE_S = 120;
const SLURM_CALL_TIMEOUT_MS = 60_000;

export class SlurmRunner implements Runner {
  readonly kind = "slurm" as const;
  constructor(readonly config: RunnerConfig) {}

  async run(specInput: RunSpec, ctx: RunContext): Promise<RunOutcome> {
    const spec = RunSpec.parse(specInput);
    fs.mkdirSync(ctx.runDir, { recursive: true });
    const runDir = fs.realpathSync(ctx.runDir);
    const specHash = specHashOf(spec);
    const name = `archlab-${sha(`${runDir}\n${specHash}`).slice(0, 12)}`;
    const markerPath = path.join(runDir, MARKER_FILE);
    const previous = readMarker(markerPath);
    const abandoned = previous?.abandoned ?? [];
    const job = new JobTracker(ctx, spec.stage, runDir);

    let jobId: string;
    const known = previous?.specHash === specHash ? previous.jobId : null;
    const found = known ?? (await findByName(name, abandoned));
    if (found) {
      jobId = found;
      writeMarker(markerPath, { jobId, name, specHash, submittedAt: previous?.submittedAt ?? new Date().toISOString(), abandoned });
      await job.attach(jobId, previous?.submittedAt ?? new Date().toISOString());
    } else {
      const submitted = await this.#submit(spec, runDir, name, (ctx.sandbox ?? "auto") !== "none");
      if (typeof submitted !== "string") return submitted;
      jobId = submitted;
      const submittedAt = new Date().toISOString();
      writeMarker(markerPath, { jobId, name, specHash, submittedAt, abandoned });
      await job.submitted(jobId, submittedAt);
    }
    return this.#wait(spec, runDir, jobId, job, () => {
      writeMarker(markerPath, { jobId: null, name, specHash, submittedAt: new Date().toISOString(), abandoned: [...abandoned, jobId] });
    });
  }

  /** Writes spec.json and job.sh and submits them; the job id, or the failed run when sbatch refuses. */
  async #submit(spec: RunSpec, runDir: string, name: string, sandbox: boolean): Promise<string | RunOutcome> {
    const specPath = path.join(runDir, "spec.json");
    const scriptPath = path.join(runDir, "job.sh");
    const logPath = path.join(runDir, "harness.log");
    fs.rmSync(spec.result_path, { force: true });
    checkpointInWork(spec, path.join(runDir, "work"));
    fs.writeFileSync(specPath, JSON.stringify(spec, null, 2));
    const { argv } = harnessArgv(specPath, runDir, { sandbox, gpu: this.config.gpus > 0 });
    fs.writeFileSync(scriptPath, jobScript({
      argv, env: childEnv(runDir, undefined), cwd: EXPERIMENTS_DIR, logPath,
      path: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", requeue: this.config.requeue, checkpointExit: CHECKPOINT_EXIT,
    }), { mode: 0o755 });
    const args = sbatchArgs(this.config, spec, name, { runDir, scriptPath, outPattern: path.join(runDir, "slurm-%j.out") });
    const out = await execa("sbatch", args, { reject: false, timeout: SLURM_CALL_TIMEOUT_MS });
    const jobId = /^(\d+(?:_\d+)?)(;.*)?$/.exec(out.stdout.trim())?.[1];
    if (out.exitCode === 0 && jobId) return jobId;
    const why = (out.stderr || out.stdout || String(out.exitCode ?? out.signal)).trim().split("\n").slice(-2).join(" ");
    return { result: synthetic(spec, "failed", "crash", `sbatch refused the job: ${why}`, ""), processS: 0 };
  }

  async #wait(spec: RunSpec, runDir: string, jobId: string, job: JobTracker, abandon: () => void): Promise<RunOutcome> {
    const logPath = path.join(runDir, "harness.log");
    const progress = new ProgressTail(runDir, jobId, job.ctx.onProgress);
    let interval = 0.5;
    let unknownSince: number | null = null;
    let unknownPolls = 0;
    let pendingSince: number | null = null;
    let last: JobInfo | null = null;
    const stop = async (state: string, reason: string) => {
      await scancel(jobId);
      await job.update({ state, reason, restarts: last?.restarts ?? 0 });
    };
    for (;;) {
      if (job.ctx.signal?.aborted) {
        const why = job.ctx.signal.reason;
        const text = why instanceof Error ? why.message : typeof why === "string" ? why : "campaign stopped";
        await stop("CANCELLED", `archlab: ${text}: scancel`); // vetoed, stopped by SIGTERM, reached 8 h, stopped early
        abandon();
        return { result: synthetic(spec, "failed", "crash", "run stopped", logTail(logPath)), processS: last?.runTimeS ?? 0 };
      }
      const info = await queryJob(jobId);
      progress.read();
      const phase = phaseOf(info);
      if (phase === "finished") {
        await job.update({ state: info!.state, reason: info!.reason, restarts: info!.restarts });
        progress.read();
        return { result: this.#resultOf(spec, jobId, info!, logPath), processS: info!.runTimeS ?? 0 };
      }
      if (phase === "unknown") {
        unknownSince ??= Date.now();
        unknownPolls++;
        if (unknownPolls >= 3 && Date.now() - unknownSince >= 3 * this.config.poll_s * 1000) {
          const reason = `slurm job ${jobId} vanished: neither scontrol nor sacct knows it${info ? ` (state ${info.state})` : ""}`;
          await job.update({ state: "UNKNOWN", reason, restarts: last?.restarts ?? 0 });
          // It may have finished and been purged: a result on the shared filesystem still counts.
          if (fs.existsSync(spec.result_path)) return { result: readResult(spec.result_path, spec, logPath), processS: 0 };
          return { result: synthetic(spec, "failed", "crash", reason, logTail(logPath)), processS: 0 };
        }
      } else {
        unknownSince = null;
        unknownPolls = 0;
        if (last?.state !== info!.state || last?.restarts !== info!.restarts) {
          await job.update({ state: info!.state, reason: info!.reason, restarts: info!.restarts });
        }
        last = info;
        if (info!.state === "PENDING" || info!.state === "REQUEUED") {
          pendingSince ??= Date.now();
          const pendingS = (Date.now() - pendingSince) / 1000;
          if (this.config.max_pending_s !== null && pendingS > this.config.max_pending_s) {
            const reason = `pending longer than max_pending_s=${this.config.max_pending_s} s (Reason=${info!.reason ?? "None"}): cancelled by archlab`;
            await stop("CANCELLED", reason);
            return { result: synthetic(spec, "failed", "cancelled", `slurm job ${jobId} ${reason}`, ""), processS: 0 };
          }
        } else {
          pendingSince = null;
        }
        if (info!.state === "RUNNING" && (info!.runTimeS ?? 0) > spec.timeout_s + STUCK_GRACE_S) {
          const reason = `stuck: running ${info!.runTimeS} s, past the stage's ${spec.timeout_s} s timeout: cancelled by archlab`;
          await stop("CANCELLED", reason);
          return { result: synthetic(spec, "timeout", "timeout", `slurm job ${jobId} ${reason}`, logTail(logPath)), processS: info!.runTimeS ?? 0 };
        }
      }
      await sleep(interval * 1000, job.ctx.signal);
      interval = Math.min(interval * 1.6, this.config.poll_s);
    }
  }

  #resultOf(spec: RunSpec, jobId: string, info: JobInfo, logPath: string): RunResult {
    if (fs.existsSync(spec.result_path)) return readResult(spec.result_path, spec, logPath);
    const ended = endedWithoutResult(jobId, info);
    return synthetic(spec, ended.status, ended.kind, ended.message, logTail(logPath));
  }
}

/** The experiment's record of its job, kept current through ctx.onJob. */
class JobTracker {
  #record: JobRecord | null = null;
  constructor(readonly ctx: RunContext, readonly stage: string, readonly runDir: string) {}

  async submitted(jobId: string, submittedAt: string) {
    this.#record = { runner: "slurm", jobId, stage: this.stage, runDir: this.runDir, submittedAt, state: "SUBMITTED", reason: null, restarts: 0, reattached: 0, updatedAt: new Date().toISOString() };
    await this.ctx.onJob?.(this.#record);
  }

  async attach(jobId: string, submittedAt: string) {
    this.#record = { runner: "slurm", jobId, stage: this.stage, runDir: this.runDir, submittedAt, state: "REATTACHED", reason: null, restarts: 0, reattached: 1, updatedAt: new Date().toISOString() };
    await this.ctx.onJob?.(this.#record);
  }

  async update(patch: Pick<JobRecord, "state" | "reason" | "restarts">) {
    if (!this.#record) return;
    this.#record = { ...this.#record, ...patch, updatedAt: new Date().toISOString() };
    await this.ctx.onJob?.(this.#record);
  }
}

/** Streams the job's JSON progress lines (its stdout file) to onProgress; nothing else is read from it. */
class ProgressTail {
  #offset = 0;
  #partial = "";
  readonly #file: string;
  constructor(runDir: string, jobId: string, readonly onProgress?: RunContext["onProgress"]) {
    this.#file = path.join(runDir, `slurm-${jobId}.out`);
  }

  read() {
    if (!this.onProgress) return;
    let chunk: Buffer;
    try {
      const fd = fs.openSync(this.#file, "r");
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= this.#offset) return;
        chunk = Buffer.alloc(size - this.#offset);
        fs.readSync(fd, chunk, 0, chunk.length, this.#offset);
        this.#offset = size;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return;
    }
    const lines = (this.#partial + chunk.toString("utf8")).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      const event = parseProgress(line);
      if (event) this.onProgress(event);
    }
  }
}

/** The job's state from scontrol, else sacct; null when neither knows it (or the controller does not answer). */
export async function queryJob(jobId: string): Promise<JobInfo | null> {
  const sc = await execa("scontrol", ["show", "job", "-o", jobId], { reject: false, timeout: SLURM_CALL_TIMEOUT_MS });
  if (sc.exitCode === 0) {
    const info = parseScontrol(sc.stdout.split("\n")[0] ?? "");
    if (info) return info;
  }
  const sa = await execa("sacct", ["-n", "-X", "-P", "-o", "State,ExitCode", "-j", jobId], { reject: false, timeout: SLURM_CALL_TIMEOUT_MS });
  return sa.exitCode === 0 ? parseSacct(sa.stdout) : null;
}

async function scancel(jobId: string): Promise<void> {
  await execa("scancel", [jobId], { reject: false, timeout: SLURM_CALL_TIMEOUT_MS });
}

/** A job of this run submitted before a crash left no marker: the newest one by name that archlab did not cancel. */
async function findByName(name: string, abandoned: readonly string[]): Promise<string | null> {
  const out = await execa("squeue", ["-h", "-t", "all", "-n", name, "-o", "%i"], { reject: false, timeout: SLURM_CALL_TIMEOUT_MS });
  if (out.exitCode !== 0) return null;
  const ids = out.stdout.split("\n").map((s) => s.trim()).filter((s) => s && !abandoned.includes(s));
  return ids.sort((a, b) => Number(b) - Number(a))[0] ?? null;
}

function readMarker(file: string): Marker | null {
  try {
    const parsed = Marker.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** fsync'd: the job id must survive the crash that re-attach is for. */
function writeMarker(file: string, marker: Marker) {
  writeFileAtomicSync(file, JSON.stringify(marker, null, 2));
}

/** What a marker must match to be re-attached: the validated spec. */
export function specHashOf(spec: RunSpec): string {
  return sha(JSON.stringify(RunSpec.parse(spec)));
}

function sha(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
