/**
 * Launches one harness run and returns its validated result. Two processes: the trusted evaluator
 * (`python -m harness.evaluate spec.json launch.json`, outside the sandbox, never importing candidate code) and
 * the candidate process it starts (`harness.run`, inside bubblewrap when sandboxed), which returns its outputs
 * over a pipe. Only the evaluator writes result.json, in the run directory, which the sandbox cannot write (the
 * candidate gets runDir/work). The evaluator's stdout carries JSON progress lines; stderr (the candidate's
 * too) goes, redacted and capped, to harness.log. The evaluator enforces the spec's timeout; as a backstop this
 * side kills both process groups a little later, and a run past its limit is `timeout` whatever it left.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { ProgressEvent, RESULT_SCHEMA, RunResult, type ErrorKind, type RunStatus } from "../contracts/result.ts";
import { RunSpec } from "../contracts/runSpec.ts";
import { EXPERIMENTS_DIR } from "../paths.ts";
import { CappedLog } from "./log.ts";
import { findPython } from "./python.ts";
import { redact, secretValues } from "./redact.ts";
import { findBwrap, interpreterPaths, resolveSandbox, SANDBOX_HOME, sandboxArgs, sandboxAvailable, type SandboxMode } from "./sandbox.ts";

export interface HarnessOptions {
  /** The run directory: spec.json, launch.json, result.json and harness.log; the candidate writes only work/. */
  runDir: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Abort to stop the run (the process groups are killed). */
  signal?: AbortSignal;
  python?: string;
  /** auto (default): bwrap when it works; bwrap: required; none: unsandboxed. See resolveSandbox. */
  sandbox?: SandboxMode;
  /** The candidate was written by an LLM: under auto it never runs without a working sandbox. */
  llmWritten?: boolean;
  /** GPU index the child may see (CUDA_VISIBLE_DEVICES); undefined hides every GPU. */
  gpu?: string;
  /** Seconds past the spec's timeout before the process groups are killed. */
  graceSeconds?: number;
  /** Where a warning goes (running unsandboxed); default stderr, once per message. */
  onWarning?: (message: string) => void;
}

export interface HarnessRun {
  result: RunResult;
  specPath: string;
  resultPath: string;
  logPath: string;
  sandboxed: boolean;
  /** Wall seconds from spawn to exit as seen from here (Python start-up included). */
  processS: number;
}

const warned = new Set<string>();
const warnOnce = (message: string) => {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`archlab: warning: ${message}\n`);
};

/** The variables a child gets when it runs in `runDir` (a Slurm job's harness, unsandboxed runs). */
export function childEnv(runDir: string, gpu: string | undefined): Record<string, string> {
  const tmp = path.join(runDir, "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  return envFor(runDir, tmp, gpu);
}

/** The only variables a child sees: no API keys, no tokens, nothing from the user's shell. */
function envFor(home: string, tmp: string, gpu: string | undefined): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: tmp,
    LANG: "C.UTF-8",
    PYTHONPATH: EXPERIMENTS_DIR,
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    CUDA_VISIBLE_DEVICES: gpu ?? "",
    ...(process.env.OPENBLAS_CORETYPE ? { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE } : {}),
  };
}

const FSIZE_BYTES = 1 << 30;
/** Interpreter and torch start-up allowed before the candidate process says "start" (harness/evaluate.py STARTUP_S). */
const STARTUP_MS = 120_000;
const NPROC = 256;

/**
 * The evaluator's exit code after SIGUSR2 made the run checkpoint and stop (no result file): a Slurm job's batch
 * script requeues on it (slurmJob.ts). Told to the evaluator in launch.json (`stop`), with the file through which
 * it asks the candidate process to stop at its next step boundary (in work/, which both sides reach).
 */
export const CHECKPOINT_EXIT = 75;
const STOP_FILE = "checkpoint-requested";

/** What the evaluator starts: the candidate process, wrapped in bubblewrap when sandboxed. */
function launchFor(spec: RunSpec, python: string, specPath: string, workDir: string, sandboxed: boolean, gpu: string | undefined) {
  const command = [python, "-m", "harness.run", specPath];
  const stop = { file: path.join(workDir, STOP_FILE), exit_code: CHECKPOINT_EXIT };
  const withStop = (env: Record<string, string>) => ({ ...env, ARCHLAB_STOP_FILE: stop.file });
  if (!sandboxed) {
    const tmp = path.join(workDir, "tmp");
    fs.mkdirSync(tmp, { recursive: true });
    return { argv: command, env: withStop(envFor(workDir, tmp, gpu)), cwd: EXPERIMENTS_DIR, sandboxed, stop };
  }
  const readOnly = [...interpreterPaths(python), EXPERIMENTS_DIR, spec.layer.path, specPath,
    ...(spec.data.corpus ? [spec.data.corpus] : []), ...corpusEntries(spec)];
  const cpuSeconds = Math.ceil(spec.timeout_s * Math.max(1, os.availableParallelism())) + 60;
  const asBytes = gpu === undefined && spec.memory_mb ? (spec.memory_mb + 16384) * 2 ** 20 : null;
  const argv = [findBwrap()!, ...sandboxArgs({ workDir, readOnly, home: SANDBOX_HOME },
    { nproc: NPROC, fsizeBytes: FSIZE_BYTES, cpuSeconds, asBytes }, { gpu: gpu !== undefined }, command)];
  return { argv, env: withStop(envFor(SANDBOX_HOME, "/tmp", gpu)), cwd: EXPERIMENTS_DIR, sandboxed, stop };
}

/** Data paths named by task entries (the byte-level LM's `corpus`, the LM stage's token directory `path`). */
function corpusEntries(spec: RunSpec): string[] {
  const tasks = Array.isArray(spec.data.tasks) ? (spec.data.tasks as unknown[]) : [];
  return tasks.flatMap((t) => {
    const entry = (t ?? {}) as { corpus?: unknown; path?: unknown }; // the byte LM's corpus, the tokens task's dir
    return [entry.corpus, entry.path].filter((p): p is string => typeof p === "string" && fs.existsSync(p)).map((p) => path.resolve(p));
  });
}

export async function runHarness(specInput: RunSpec, opts: HarnessOptions): Promise<HarnessRun> {
  const spec = RunSpec.parse(specInput);
  const policy = resolveSandbox(opts.sandbox ?? "auto", (opts.sandbox ?? "auto") === "none" ? false : sandboxAvailable(), opts.llmWritten ?? false);
  if (policy.warn) (opts.onWarning ?? warnOnce)(policy.warn);
  const sandboxed = policy.sandboxed;
  fs.mkdirSync(opts.runDir, { recursive: true });
  const runDir = fs.realpathSync(opts.runDir);
  const workDir = path.join(runDir, "work");
  fs.mkdirSync(workDir, { recursive: true });
  checkpointInWork(spec, workDir);
  const specPath = path.join(runDir, "spec.json");
  const launchPath = path.join(runDir, "launch.json");
  const logPath = path.join(runDir, "harness.log");
  const resultPath = spec.result_path;
  fs.rmSync(resultPath, { force: true });
  fs.writeFileSync(specPath, JSON.stringify(spec, null, 2));

  const python = opts.python ?? findPython();
  fs.writeFileSync(launchPath, JSON.stringify(launchFor(spec, python, specPath, workDir, sandboxed, opts.gpu), null, 2));
  const secrets = secretValues();
  const log = new CappedLog(logPath, (text) => redact(text, secrets));

  const spawnedAt = performance.now();
  const child = execa(python, ["-m", "harness.evaluate", specPath, launchPath], {
    cwd: EXPERIMENTS_DIR,
    env: envFor(workDir, workDir, opts.gpu),
    extendEnv: false,
    detached: true, // own process group; the candidate process has its own, announced on the first line
    stdin: "ignore",
    reject: false,
    buffer: false,
  });
  child.stderr?.on("data", (chunk: Buffer) => log.write(chunk));
  let workerPid: number | undefined;
  let killedBy: "timeout" | "abort" | undefined;
  const killGroups = (reason: "timeout" | "abort") => {
    killedBy ??= reason;
    for (const pid of [child.pid, workerPid]) {
      try {
        if (pid) process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  // Like the evaluator's own limit, the spec's timeout runs from the candidate process's "start" (imports done).
  const limitMs = (spec.timeout_s + (opts.graceSeconds ?? 30)) * 1000;
  let backstop = setTimeout(() => killGroups("timeout"), STARTUP_MS + limitMs);
  const onAbort = () => killGroups("abort");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  try {
    for await (const line of child.iterable({ from: "stdout" })) {
      const text = String(line);
      const worker = /^\{"event": "worker", "pid": (\d+)\}$/.exec(text);
      if (worker) workerPid = Number(worker[1]);
      const event = parseProgress(text);
      if (event?.event === "start") {
        clearTimeout(backstop);
        backstop = setTimeout(() => killGroups("timeout"), limitMs);
      }
      if (event) opts.onProgress?.(event);
    }
    await child;
  } finally {
    clearTimeout(backstop);
    opts.signal?.removeEventListener("abort", onAbort);
    log.close();
  }
  const processS = (performance.now() - spawnedAt) / 1000;
  const result = finalResult(readResult(resultPath, spec, logPath, killedBy), sandboxed, secrets);
  fs.writeFileSync(resultPath, JSON.stringify(result, null, 1));
  return { result, specPath, resultPath, logPath, sandboxed, processS };
}

/** What this side adds to the evaluator's result: how it was isolated, and no secret in any text. */
function finalResult(result: RunResult, sandboxed: boolean, secrets: readonly string[]): RunResult {
  const error = result.error && { ...result.error, message: redact(result.error.message, secrets), tail: redact(result.error.tail, secrets) };
  return { ...result, sandboxed, error };
}

/**
 * The command line of one run for a runner that spawns it itself (Slurm): the trusted evaluator, with
 * launch.json beside the spec naming the candidate process (in bubblewrap when `sandbox` and it works).
 */
export function harnessArgv(specPath: string, runDir: string, opts: { python?: string; sandbox?: boolean; gpu: boolean }): { argv: string[]; sandboxed: boolean } {
  const python = opts.python ?? findPython();
  const sandboxed = (opts.sandbox ?? true) && sandboxAvailable();
  const spec = RunSpec.parse(JSON.parse(fs.readFileSync(specPath, "utf8")));
  const workDir = path.join(runDir, "work");
  fs.mkdirSync(workDir, { recursive: true });
  const launchPath = path.join(runDir, "launch.json");
  fs.writeFileSync(launchPath, JSON.stringify(launchFor(spec, python, specPath, workDir, sandboxed, opts.gpu ? "0" : undefined), null, 2));
  return { argv: [python, "-m", "harness.evaluate", specPath, launchPath], sandboxed };
}

/** The candidate process writes only work/: an LM run's checkpoint lives there (and resumes from there). */
export function checkpointInWork(spec: RunSpec, workDir: string): void {
  if (spec.checkpoint_path) spec.checkpoint_path = path.join(workDir, path.basename(spec.checkpoint_path));
}

export function parseProgress(line: string): ProgressEvent | undefined {
  try {
    const parsed = ProgressEvent.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Reads and validates the result file; when the child died without one, records why instead. */
export function readResult(resultPath: string, spec: RunSpec, logPath: string, killedBy?: "timeout" | "abort"): RunResult {
  const tail = logTail(logPath);
  if (killedBy === "timeout") {
    return synthetic(spec, "timeout", "timeout", `killed after ${spec.timeout_s} s`, tail);
  }
  if (!fs.existsSync(resultPath)) {
    const why = killedBy === "abort" ? "run stopped" : "harness exited without a result file";
    return synthetic(spec, "failed", "crash", why, tail);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(resultPath, "utf8"));
  } catch (err) {
    return synthetic(spec, "failed", "crash", `unreadable result file: ${(err as Error).message}`, tail);
  }
  const parsed = RunResult.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return synthetic(spec, "failed", "crash", `result file breaks ${RESULT_SCHEMA} at ${issue.path.join(".")}: ${issue.message}`, tail);
  }
  const result = parsed.data;
  return result.error && !result.error.tail ? { ...result, error: { ...result.error, tail } } : result;
}

export function synthetic(spec: RunSpec, status: RunStatus, kind: ErrorKind, message: string, tail: string): RunResult {
  const result: RunResult = {
    schema: RESULT_SCHEMA,
    stage: spec.stage,
    status,
    error: { kind, message, tail },
    probes: null,
    fingerprint: null,
    curve: [],
    metrics: {},
    params: null,
    tokens_per_s: null,
    wall_s: 0,
    device_s: null,
    env: { torch: "unknown", python: "unknown", device: spec.device, dtype: spec.dtype, seed: spec.seed },
    sandboxed: null,
    candidate_reported: [],
    eval_causality: null,
  };
  fs.writeFileSync(spec.result_path, JSON.stringify(result, null, 1));
  return result;
}

export function logTail(logPath: string, chars = 4000): string {
  try {
    const size = fs.statSync(logPath).size;
    const fd = fs.openSync(logPath, "r");
    const buffer = Buffer.alloc(Math.min(size, chars * 4));
    fs.readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    fs.closeSync(fd);
    return buffer.toString("utf8").slice(-chars);
  } catch {
    return "";
  }
}
