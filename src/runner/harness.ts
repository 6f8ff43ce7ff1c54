/**
 * Launches one harness run (`python -m harness.run spec.json`) in a child process and returns its validated
 * result. The child's stdout carries JSON progress lines; its stderr goes to the run's log file. The harness
 * enforces the spec's timeout itself; as a backstop this side kills the whole process group a little later.
 */
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { ProgressEvent, RESULT_SCHEMA, RunResult, type ErrorKind, type RunStatus } from "../contracts/result.ts";
import { RunSpec } from "../contracts/runSpec.ts";
import { EXPERIMENTS_DIR } from "../paths.ts";
import { findPython } from "./python.ts";
import { sandboxArgs, sandboxAvailable } from "./sandbox.ts";

export interface HarnessOptions {
  /** The run directory: spec.json, result.json and harness.log are written here. */
  runDir: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Abort to stop the run (the process group is killed). */
  signal?: AbortSignal;
  python?: string;
  /** Run inside bubblewrap when available (default true). */
  sandbox?: boolean;
  /** GPU index the child may see (CUDA_VISIBLE_DEVICES); undefined hides every GPU. */
  gpu?: string;
  /** Seconds past the spec's timeout before the process group is killed. */
  graceSeconds?: number;
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

/** The only variables a candidate sees: no API keys, no tokens, nothing from the user's shell. */
export function childEnv(runDir: string, gpu: string | undefined): Record<string, string> {
  const tmp = path.join(runDir, "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: runDir,
    TMPDIR: tmp,
    LANG: "C.UTF-8",
    PYTHONPATH: EXPERIMENTS_DIR,
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    CUDA_VISIBLE_DEVICES: gpu ?? "",
    ...(process.env.OPENBLAS_CORETYPE ? { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE } : {}),
  };
}

export async function runHarness(specInput: RunSpec, opts: HarnessOptions): Promise<HarnessRun> {
  const spec = RunSpec.parse(specInput);
  fs.mkdirSync(opts.runDir, { recursive: true });
  const runDir = fs.realpathSync(opts.runDir);
  const specPath = path.join(runDir, "spec.json");
  const logPath = path.join(runDir, "harness.log");
  const resultPath = spec.result_path;
  fs.rmSync(resultPath, { force: true });
  fs.writeFileSync(specPath, JSON.stringify(spec, null, 2));

  const { argv: [file, ...args], sandboxed } = harnessArgv(specPath, runDir, { ...opts, gpu: opts.gpu !== undefined });

  const spawnedAt = performance.now();
  const child = execa(file!, args, {
    cwd: EXPERIMENTS_DIR,
    env: childEnv(runDir, opts.gpu),
    extendEnv: false,
    detached: true, // own process group, so a kill reaches everything the candidate started
    stdin: "ignore",
    stderr: { file: logPath },
    reject: false,
    buffer: false,
  });
  let killedBy: "timeout" | "abort" | undefined;
  const killGroup = (reason: "timeout" | "abort") => {
    killedBy ??= reason;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const backstop = setTimeout(() => killGroup("timeout"), (spec.timeout_s + (opts.graceSeconds ?? 30)) * 1000);
  const onAbort = () => killGroup("abort");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  try {
    for await (const line of child.iterable({ from: "stdout" })) {
      const event = parseProgress(String(line));
      if (event) opts.onProgress?.(event);
    }
    await child;
  } finally {
    clearTimeout(backstop);
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const processS = (performance.now() - spawnedAt) / 1000;
  const result = readResult(resultPath, spec, logPath, killedBy);
  return { result, specPath, resultPath, logPath, sandboxed, processS };
}

/** The harness command line for a spec, wrapped in the sandbox when asked and available (local and Slurm runs). */
export function harnessArgv(specPath: string, runDir: string, opts: { python?: string; sandbox?: boolean; gpu: boolean }): { argv: string[]; sandboxed: boolean } {
  const python = opts.python ?? findPython();
  const sandboxed = (opts.sandbox ?? true) && sandboxAvailable();
  const command = [python, "-m", "harness.run", specPath];
  return { argv: sandboxed ? ["bwrap", ...sandboxArgs(runDir, { gpu: opts.gpu }), ...command] : command, sandboxed };
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
  if (!fs.existsSync(resultPath)) {
    if (killedBy === "timeout") {
      return synthetic(spec, "timeout", "timeout", `killed after ${spec.timeout_s} s (no result file)`, tail);
    }
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
  return parsed.data;
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
  };
  fs.writeFileSync(spec.result_path, JSON.stringify(result, null, 1));
  return result;
}

export function logTail(logPath: string, chars = 4000): string {
  try {
    const text = fs.readFileSync(logPath, "utf8");
    return text.slice(-chars);
  } catch {
    return "";
  }
}
