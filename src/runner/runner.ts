/**
 * The runner interface (DESIGN §8): one harness run in, one validated result out. `LocalRunner` runs it in a
 * child process here (harness.ts); `SlurmRunner` submits it with sbatch (slurm.ts). A campaign picks one per
 * stage from the stage's `runner:` section.
 */
import type { SandboxMode } from "./sandbox.ts";
import { z } from "zod";
import type { ProgressEvent, RunResult } from "../contracts/result.ts";
import type { JobRecord } from "../contracts/experiment.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { earlyStopping, type EarlyStopOption } from "./earlyStop.ts";
import { runHarness } from "./harness.ts";
import { SlurmRunner } from "./slurm.ts";

const slurmTime = z.string().regex(/^(\d+|\d+:\d{2}(:\d{2})?|\d+-\d{1,2}(:\d{2}){0,2})$/, "minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]");

/** A stage's `runner:` section. Slurm resources left null come from the stage (threads, memory, timeout). */
export const RunnerConfig = z.strictObject({
  kind: z.enum(["local", "slurm"]).default("local"),
  partition: z.string().min(1).nullable().default(null),
  account: z.string().min(1).nullable().default(null),
  qos: z.string().min(1).nullable().default(null),
  /** GPUs per job (--gpus); 0: a CPU job with every GPU hidden. */
  gpus: z.number().int().nonnegative().default(0),
  /** --cpus-per-task; null: the stage's torch threads (1 on CPU). */
  cpus: z.number().int().positive().nullable().default(null),
  /** --mem, e.g. "8G"; null: the stage's memory_mb. */
  mem: z.string().regex(/^\d+[KMGT]?$/, 'a size such as "8G" or "8192M"').nullable().default(null),
  /** --time; null: the stage's timeout plus a minute, rounded up to whole minutes. */
  time: slurmTime.nullable().default(null),
  /** Passed to sbatch as they are, after archlab's own options (e.g. ["--constraint=a100"]). */
  extra_args: z.array(z.string()).default([]),
  /** scancel a job still pending after this many seconds (recorded as cancelled with the reason). */
  max_pending_s: z.number().positive().nullable().default(null),
  /** Requeues after USR2 (preemption or the time limit near), each resuming from the run's checkpoint. */
  requeue: z.number().int().min(0).max(20).default(0),
  /** --signal=B:USR2@N: seconds before the time limit the job is told to checkpoint. */
  signal_s: z.number().int().positive().default(120),
  /** Longest wait between two polls of `scontrol show job` (polls start at 0.5 s and back off). */
  poll_s: z.number().positive().default(10),
});
export type RunnerConfig = z.infer<typeof RunnerConfig>;

export interface RunContext {
  /** The run directory: spec.json, result.json and the logs are written here. */
  runDir: string;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** GPU index for a local run (CUDA_VISIBLE_DEVICES); Slurm assigns its own. */
  gpu?: string;
  sandbox?: SandboxMode;
  /** The candidate was written by an LLM (under sandbox auto it never runs unsandboxed). */
  llmWritten?: boolean;
  /** A job was submitted, re-attached or finished: persist it (awaited before the runner goes on). */
  onJob?: (job: JobRecord) => Promise<void>;
  /**
   * Stop the run when its held-out loss (the evaluator's monitor) trails the baseline's curve by the rule's margin
   * (earlyStop.ts): its result is then `stopped_early` with the evidence. Ignored for stages that do not train.
   */
  earlyStop?: EarlyStopOption;
}

export interface RunOutcome {
  result: RunResult;
  /** Seconds the harness process took, as seen by the runner (for a Slurm job: its RunTime). */
  processS: number;
}

export interface Runner {
  readonly kind: RunnerConfig["kind"];
  run(spec: RunSpec, ctx: RunContext): Promise<RunOutcome>;
}

export class LocalRunner implements Runner {
  readonly kind = "local" as const;
  async run(spec: RunSpec, ctx: RunContext): Promise<RunOutcome> {
    const run = await runHarness(spec, {
      runDir: ctx.runDir, signal: ctx.signal, onProgress: ctx.onProgress, gpu: ctx.gpu, sandbox: ctx.sandbox,
      llmWritten: ctx.llmWritten,
    });
    return { result: run.result, processS: run.processS };
  }
}

/** The runner a stage's `runner:` section asks for (either honours `ctx.earlyStop`). */
export function makeRunner(config: RunnerConfig): Runner {
  return earlyStopping(config.kind === "slurm" ? new SlurmRunner(config) : new LocalRunner());
}
