/**
 * The pure half of the Slurm runner: the sbatch options and job script for one harness run, the parse of
 * `scontrol show job -o` / `sacct -P`, the explicit sets of Slurm states (after submitit: what is not known to
 * be finished or waiting is *unknown*, never "running"), and what a job that ended without a result file means.
 */
import type { ErrorKind, RunStatus } from "../contracts/result.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import type { RunnerConfig } from "./runner.ts";

/** States in which the job will still run or finish: keep waiting. */
export const WAITING_STATES = new Set([
  "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
  "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "POWER_UP_NODE",
]);
/** States a job never leaves. */
export const FINISHED_STATES = new Set([
  "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
  "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED",
]);

export interface JobInfo {
  state: string;
  reason: string | null;
  exitCode: string | null;
  restarts: number;
  /** Seconds it has run (RunTime), when known. */
  runTimeS: number | null;
}

/** `scontrol show job -o ID`: one line of Key=Value pairs. */
export function parseScontrol(line: string): JobInfo | null {
  const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1] ?? null;
  const state = field("JobState");
  if (!state) return null;
  const reason = field("Reason");
  return {
    state,
    reason: reason === null || reason === "None" ? null : reason,
    exitCode: field("ExitCode"),
    restarts: Number(field("Restarts") ?? 0) || 0,
    runTimeS: durationS(field("RunTime")),
  };
}

/** `sacct -n -X -P -o State,ExitCode -j ID`: "CANCELLED by 0|0:15". */
export function parseSacct(stdout: string): JobInfo | null {
  const line = stdout.split("\n").map((l) => l.trim()).find(Boolean);
  if (!line) return null;
  const [state, exitCode] = line.split("|");
  const word = state?.split(/\s+/)[0];
  if (!word) return null;
  return { state: word, reason: state!.includes(" by ") ? state! : null, exitCode: exitCode ?? null, restarts: 0, runTimeS: null };
}

/** Slurm's [D-]HH:MM:SS (or MM:SS) in seconds. */
export function durationS(text: string | null): number | null {
  if (!text) return null;
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(text);
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

export type JobPhase = "waiting" | "finished" | "unknown";
export function phaseOf(info: JobInfo | null): JobPhase {
  if (!info) return "unknown";
  if (FINISHED_STATES.has(info.state)) return "finished";
  if (WAITING_STATES.has(info.state)) return "waiting";
  return "unknown";
}

/** What a finished job that left no result file means for the run. */
export function endedWithoutResult(jobId: string, info: JobInfo): { status: RunStatus; kind: ErrorKind; message: string } {
  const detail = `JobState=${info.state}${info.reason ? ` Reason=${info.reason}` : ""}${info.exitCode ? ` ExitCode=${info.exitCode}` : ""}`;
  switch (info.state) {
    case "CANCELLED":
      return { status: "failed", kind: "cancelled", message: `slurm job ${jobId} was cancelled outside archlab (scancel or an administrator); ${detail}` };
    case "PREEMPTED":
      return { status: "failed", kind: "cancelled", message: `slurm job ${jobId} was preempted and not requeued; ${detail}` };
    case "TIMEOUT":
    case "DEADLINE":
      return { status: "timeout", kind: "timeout", message: `slurm job ${jobId} reached its time limit; ${detail}` };
    case "OUT_OF_MEMORY":
      return { status: "failed", kind: "oom", message: `slurm job ${jobId} ran out of memory; ${detail}` };
    default:
      return { status: "failed", kind: "crash", message: `slurm job ${jobId} ended without a result file; ${detail}` };
  }
}

/** Whole minutes for --time: the stage's timeout plus a minute (plus the USR2 lead when requeueing). */
export function defaultTime(spec: RunSpec, cfg: RunnerConfig): string {
  const seconds = spec.timeout_s + 60 + (cfg.requeue > 0 ? cfg.signal_s : 0);
  return String(Math.ceil(seconds / 60));
}

export interface JobPaths {
  runDir: string;
  scriptPath: string;
  /** Slurm's own stdout/stderr of the job (the harness's JSON progress lines land here). */
  outPattern: string;
}

/** sbatch's arguments: archlab's resources from the stage, then the user's extra_args. */
export function sbatchArgs(cfg: RunnerConfig, spec: RunSpec, name: string, paths: JobPaths): string[] {
  const args = [
    "--parsable", `--job-name=${name}`, `--output=${paths.outPattern}`, "--open-mode=append",
    `--chdir=${paths.runDir}`, "--export=NONE", "--nodes=1", "--ntasks=1",
    `--cpus-per-task=${cfg.cpus ?? spec.threads ?? 1}`,
    `--time=${cfg.time ?? defaultTime(spec, cfg)}`,
  ];
  if (cfg.mem) args.push(`--mem=${cfg.mem}`);
  else if (spec.memory_mb) args.push(`--mem=${spec.memory_mb}M`);
  if (cfg.partition) args.push(`--partition=${cfg.partition}`);
  if (cfg.account) args.push(`--account=${cfg.account}`);
  if (cfg.qos) args.push(`--qos=${cfg.qos}`);
  if (cfg.gpus > 0) args.push(`--gpus=${cfg.gpus}`);
  args.push(...(cfg.requeue > 0 ? ["--requeue", `--signal=B:USR2@${cfg.signal_s}`] : ["--no-requeue"]));
  args.push(...cfg.extra_args, paths.scriptPath);
  return args;
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptInput {
  /** The harness command (inside bwrap when sandboxed). */
  argv: string[];
  /** The candidate's whole environment (CUDA_VISIBLE_DEVICES is taken from what Slurm assigns). */
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /** PATH for the batch script itself (scontrol for the requeue). */
  path: string;
  requeue: number;
  /** The evaluator's exit code once it has checkpointed and stopped on USR2 (harness.ts CHECKPOINT_EXIT). */
  checkpointExit: number;
}

/**
 * The batch script: the trusted evaluator with a clean environment (env -i) and the GPUs Slurm gave the job.
 * On USR2 (time limit near, or preemption notice), while requeues are left (SLURM_RESTART_COUNT < requeue), it
 * passes USR2 on to the evaluator, which has the run checkpoint at its next step boundary and exits with
 * `checkpointExit`; the script then asks Slurm to requeue the job, and the requeued job resumes from the
 * checkpoint. A run with no checkpoint path (probe, proxy) starts over; one that finishes first just finishes.
 */
export function jobScript(input: ScriptInput): string {
  const env = Object.entries(input.env)
    .filter(([k]) => k !== "CUDA_VISIBLE_DEVICES")
    .map(([k, v]) => shellQuote(`${k}=${v}`));
  const lines = [
    "#!/bin/bash",
    "# archlab: one harness run, written by SlurmRunner; the result lands in result.json beside this file.",
    `export PATH=${shellQuote(input.path)}`,
    'child=""',
    `left() { [ "\${SLURM_RESTART_COUNT:-0}" -lt ${input.requeue} ]; }`,
  ];
  if (input.requeue > 0) {
    lines.push(
      "on_usr2() {",
      '  if left && [ -n "$child" ]; then',
      `    echo "archlab: USR2: checkpoint requested (requeue $(( \${SLURM_RESTART_COUNT:-0} + 1 )) of ${input.requeue})" >&2`,
      '    kill -USR2 "$child"',
      "  fi",
      "}",
      "trap on_usr2 USR2",
    );
  }
  lines.push(
    `cd ${shellQuote(input.cwd)} || exit 1`,
    `env -i ${env.join(" ")} "CUDA_VISIBLE_DEVICES=\${CUDA_VISIBLE_DEVICES:-}" ${input.argv.map(shellQuote).join(" ")} 2>>${shellQuote(input.logPath)} &`,
    "child=$!",
    // wait returns early when a trapped signal arrives: wait again until the harness is gone.
    'while :; do wait "$child"; rc=$?; kill -0 "$child" 2>/dev/null || break; done',
    `if [ "$rc" -eq ${input.checkpointExit} ] && left; then`,
    `  echo "archlab: checkpointed: requeue $(( \${SLURM_RESTART_COUNT:-0} + 1 )) of ${input.requeue}" >&2`,
    '  scontrol requeue "$SLURM_JOB_ID" && exit 0',
    "fi",
    'exit "$rc"',
    "",
  );
  return lines.join("\n");
}
