/** `archlab evaluate <file>`: any layer file through one stage of the ladder, in a real child run. */
import fs from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import type { ProgressEvent, RunResult } from "../contracts/result.ts";
import { UserError } from "../errors.ts";
import { runHarness } from "../runner/harness.ts";
import { STAGES, stageSpec } from "../runner/stages.ts";
import { formatResult } from "./format.ts";

interface EvaluateOptions {
  stage: string;
  class: string;
  device: string;
  seed: string;
  timeout?: string;
  memoryMb?: string;
  kwargs?: string;
  out?: string;
  opsBackend: "auto" | "fla" | "chunk" | "naive";
  json?: boolean;
  sandbox: boolean;
}

export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("run a layer file through a stage (probe checks, smoke training, ...) and print its result")
    .argument("<file>", "a Python file defining the layer class")
    .option("--stage <name>", `stage: ${STAGES.join(", ")}`, "smoke")
    .option("--class <name>", "the layer class in the file", "DeltaNet")
    .option("--device <device>", "cpu or cuda[:N]", "cpu")
    .option("--seed <n>", "random seed", "0")
    .option("--timeout <seconds>", "kill the run after this many seconds")
    .option("--memory-mb <mb>", "memory the candidate may allocate (CPU runs)")
    .option("--kwargs <json>", "extra constructor keywords as a JSON object")
    .option("--out <dir>", "run directory (default runs/evaluate/<time>-<file>)")
    .addOption(new Option("--ops-backend <name>", "force a primitives backend").choices(["auto", "fla", "chunk", "naive"]).default("auto"))
    .option("--no-sandbox", "do not run the candidate inside bubblewrap")
    .option("--json", "print only the result JSON on stdout")
    .action(async (file: string, opts: EvaluateOptions) => {
      process.exitCode = await evaluate(file, opts);
    });
}

async function evaluate(file: string, opts: EvaluateOptions): Promise<number> {
  checkLayerFile(file);
  const device = opts.device;
  const gpu = parseDevice(device);
  const runDir = path.resolve(opts.out ?? defaultRunDir(file));
  const spec = stageSpec({
    stage: opts.stage,
    layerPath: file,
    className: opts.class,
    runDir,
    layerKwargs: parseKwargs(opts.kwargs),
    device: gpu === undefined ? "cpu" : "cuda",
    seed: positiveInt(opts.seed, "--seed", true),
    timeoutS: opts.timeout === undefined ? undefined : positiveNumber(opts.timeout, "--timeout"),
    memoryMb: opts.memoryMb === undefined ? undefined : positiveInt(opts.memoryMb, "--memory-mb"),
    opsBackend: opts.opsBackend,
  });
  const progress = opts.json ? undefined : progressPrinter(path.basename(file));
  const run = await runHarness(spec, { runDir, onProgress: progress?.update, gpu, sandbox: opts.sandbox });
  progress?.finish();
  if (opts.json) {
    process.stdout.write(JSON.stringify(run.result, null, 2) + "\n");
  } else {
    process.stdout.write(formatResult(path.basename(file), run.result, run.logPath) + "\n");
  }
  return exitCodeFor(run.result);
}

export function exitCodeFor(result: RunResult): number {
  return result.status === "ok" ? 0 : 1;
}

function checkLayerFile(file: string): void {
  if (!fs.existsSync(file)) throw new UserError(`no such file: ${file}`);
  if (!fs.statSync(file).isFile()) throw new UserError(`not a file: ${file}`);
  if (path.extname(file) !== ".py") throw new UserError(`not a Python file (expected .py): ${file}`);
}

function parseDevice(device: string): string | undefined {
  if (device === "cpu") return undefined;
  const match = /^cuda(?::(\d+))?$/.exec(device);
  if (!match) throw new UserError(`--device must be cpu, cuda or cuda:N, not "${device}"`);
  return match[1] ?? "0";
}

function parseKwargs(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError(`--kwargs is not valid JSON: ${text}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserError("--kwargs must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function positiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UserError(`${flag} must be a positive number, not "${text}"`);
  return value;
}

function positiveInt(text: string, flag: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new UserError(`${flag} must be a ${allowZero ? "non-negative" : "positive"} integer, not "${text}"`);
  }
  return value;
}

function defaultRunDir(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return path.join("runs", "evaluate", `${stamp}-${path.basename(file, ".py")}`);
}

/** One updating line on a TTY; a plain line every tenth of the run otherwise. Progress goes to stderr. */
function progressPrinter(label: string) {
  const tty = process.stderr.isTTY;
  let lastPlain = -1;
  return {
    update(event: ProgressEvent) {
      let text: string | undefined;
      if (event.event === "step") {
        const loss = event.loss === null ? "nan" : event.loss.toFixed(4);
        text = `${label}: step ${event.step}/${event.total_steps} loss ${loss}`;
        const decile = Math.floor((10 * event.step) / event.total_steps);
        if (!tty && decile === lastPlain) return;
        lastPlain = decile;
      } else if (event.event === "probe" && event.state === "start") {
        text = `${label}: probe ${event.probe}`;
      } else if (event.event === "eval") {
        text = `${label}: evaluating`;
      }
      if (text === undefined) return;
      process.stderr.write(tty ? `\r\x1b[2K${text}` : `${text}\n`);
    },
    finish() {
      if (tty) process.stderr.write("\r\x1b[2K");
    },
  };
}
