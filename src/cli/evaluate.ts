/** `archlab evaluate <file>`: any layer file through one stage of the ladder, in a real child run. */
import fs from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { compareToBaseline, floorOfRuns, type MetricComparison } from "../analyst/seeds.ts";
import { baselineRuns } from "../campaign/baseline.ts";
import type { EarlyStopRule } from "../contracts/ladder.ts";
import type { ProgressEvent, RunResult } from "../contracts/result.ts";
import { MEMORY_FLOOR_REASON, MIN_MEMORY_MB, type RunSpec } from "../contracts/runSpec.ts";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { earlyStopOption, earlyStopping, type EarlyStopOption } from "../runner/earlyStop.ts";
import { LocalRunner } from "../runner/runner.ts";
import { checkDevices } from "../runner/devices.ts";
import type { SandboxMode } from "../runner/sandbox.ts";
import { DEFAULT_DATA_CACHE, DEFAULT_LM_PRESET, DEFAULT_PROXY_PRESET, LM_PRESETS, PROXY_PRESETS, STAGES, stageSpec, tokenManifestOf,
} from "../runner/stages.ts";
import { fraction, nonNegativeInt, positiveInt, positiveNumber } from "./flags.ts";
import { formatComparison, formatResult } from "./format.ts";
import { stepText, track, type RunView } from "./runProgress.ts";

interface EvaluateOptions {
  stage: string;
  class: string;
  device: string;
  seed: string;
  seeds: string;
  preset?: string;
  corpus?: string;
  data?: string;
  dataCache: string;
  baseline: string | false;
  baselineClass: string;
  baselineCache: string;
  timeout?: string;
  memoryMb?: string;
  kwargs?: string;
  out?: string;
  opsBackend: "auto" | "fla" | "chunk" | "naive";
  json?: boolean;
  sandbox: SandboxMode;
  earlyStop?: string | true;
  earlyStopWarmup?: string;
}

export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("run a layer file through a stage (probe checks, smoke training, ...) and print its result")
    .argument("<file>", "a Python file defining the layer class")
    .option("--stage <name>", `stage: ${STAGES.join(", ")}`, "smoke")
    .option("--class <name>", "the layer class in the file", "DeltaNet")
    .option("--device <device>", "cpu or cuda[:N]", "cpu")
    .option("--seed <n>", "random seed (the first one with --seeds)", "0")
    .option("--seeds <n>", "run seeds seed, seed+1, ... and report mean and spread", "1")
    .option("--preset <name>", `proxy stage: ${PROXY_PRESETS.join(", ")} (default ${DEFAULT_PROXY_PRESET}); lm stage: ${LM_PRESETS.join(", ")} (default ${DEFAULT_LM_PRESET})`)
    .option("--corpus <path>", "text file or folder for the proxy stage's byte-level LM task")
    .option("--data <dir>", "lm stage: a token directory from `archlab data prepare` (default: the embedded Brown corpus)")
    .option("--data-cache <dir>", "lm stage: where the embedded corpus is prepared once", DEFAULT_DATA_CACHE)
    .option("--baseline <file>", "proxy and lm stages: the layer to compare against, run once per config and seed, cached",
      "experiments/layers/delta_net.py")
    .option("--baseline-class <name>", "the baseline's layer class", "DeltaNet")
    .option("--no-baseline", "proxy and lm stages: do not compare against a baseline")
    .option("--baseline-cache <dir>", "where baseline results are cached", path.join("runs", "baselines"))
    .option("--early-stop [margin]", "proxy and lm stages: stop the run once its held-out loss trails the baseline's curve by more than this share (default 0.1)")
    .option("--early-stop-warmup <fraction>", "with --early-stop: no decision before this share of the steps (default 0.25)")
    .option("--timeout <seconds>", "kill the run after this many seconds")
    .option("--memory-mb <mb>", "memory the candidate may allocate (CPU runs)")
    .option("--kwargs <json>", "extra constructor keywords as a JSON object")
    .option("--out <dir>", "run directory (default runs/evaluate/<time>-<file>)")
    .addOption(new Option("--ops-backend <name>", "force a primitives backend").choices(["auto", "fla", "chunk", "naive"]).default("auto"))
    .addOption(new Option("--sandbox <mode>", "auto: bubblewrap when it works, else unsandboxed with a warning; bwrap: required; none: opt out").choices(["auto", "bwrap", "none"]).default("auto"))
    .option("--json", "print only the result JSON on stdout")
    .action(async (file: string, opts: EvaluateOptions) => {
      process.exitCode = await evaluate(file, opts);
    });
}

async function evaluate(file: string, opts: EvaluateOptions): Promise<number> {
  checkLayerFile(file);
  const gpu = parseDevice(opts.device);
  await checkDevices([gpu]);
  const firstSeed = nonNegativeInt(opts.seed, "--seed");
  const seeds = Array.from({ length: positiveInt(opts.seeds, "--seeds") }, (_, i) => firstSeed + i);
  const runDir = path.resolve(opts.out ?? defaultRunDir(file));
  if (fs.existsSync(runDir) && !fs.statSync(runDir).isDirectory()) throw new UserError(`--out ${opts.out} is a file; it names the run's folder`);
  const layerKwargs = parseKwargs(opts.kwargs);
  const request = {
    stage: opts.stage,
    device: gpu === undefined ? "cpu" : "cuda",
    timeoutS: opts.timeout === undefined ? undefined : positiveNumber(opts.timeout, "--timeout"),
    memoryMb: opts.memoryMb === undefined ? undefined : memoryLimit(opts.memoryMb),
    opsBackend: opts.opsBackend,
    proxy: { preset: presetFor(opts.stage === "proxy" ? opts.preset : undefined, PROXY_PRESETS, DEFAULT_PROXY_PRESET), corpus: opts.corpus ?? null },
    lm: { preset: presetFor(opts.stage === "lm" ? opts.preset : undefined, LM_PRESETS, DEFAULT_LM_PRESET), data: opts.data ?? null, dataCache: opts.dataCache },
  };
  if (opts.preset !== undefined && opts.stage !== "proxy" && opts.stage !== "lm") throw new UserError(`--preset applies to the proxy and lm stages, not ${opts.stage}`);
  if (opts.data !== undefined && opts.stage !== "lm") throw new UserError("--data applies to the lm stage (the proxy stage takes --corpus)");
  const specFor = (layer: { path: string; className: string; kwargs?: Record<string, unknown> }, seed: number, dir: string) =>
    stageSpec({ ...request, layerPath: layer.path, className: layer.className, layerKwargs: layer.kwargs, seed, runDir: dir });
  const baselineFile = (opts.stage === "proxy" || opts.stage === "lm") && opts.baseline !== false ? resolveBaseline(opts.baseline) : null;
  const rule = earlyStopRule(opts);
  if (rule && !baselineFile) throw new UserError("--early-stop compares with the baseline's curve: it needs the proxy or lm stage and a baseline (not --no-baseline)");
  const run = (spec: RunSpec, label: string, earlyStop?: EarlyStopOption) => runOne(spec, label, gpu, opts, earlyStop);

  type Baseline = { layer: string; class_name: string; results: RunResult[]; cached: number[] };
  let baseline: Baseline | null = null;
  const trainBaseline = async (file: string): Promise<Baseline> => {
    const cacheDir = path.resolve(opts.baselineCache);
    const specs = seeds.map((seed) => specFor({ path: file, className: opts.baselineClass }, seed,
      path.join(cacheDir, "runs", `${path.basename(file, ".py")}-seed${seed}-${Date.now()}`)));
    const runs = await baselineRuns(cacheDir, file, specs, async (spec) => (await run(spec, `baseline ${labelOf(file, seeds, spec.seed)}`)).result);
    if (!runs.ok) {
      const { result } = runs;
      throw new UserError(`the baseline ${baselineFile} ${result.status} on seed ${specs[runs.index]!.seed}: ${result.error?.message ?? "no result"}`);
    }
    return { layer: file, class_name: opts.baselineClass, results: runs.results, cached: seeds.filter((_, i) => runs.cached[i]) };
  };
  // Early stop reads the baseline's curve while the candidate trains: the baseline comes first then.
  if (rule && baselineFile) baseline = await trainBaseline(baselineFile);

  const results: RunResult[] = [];
  for (const [i, seed] of seeds.entries()) {
    const dir = seeds.length === 1 ? runDir : path.join(runDir, `seed${seed}`);
    const label = labelOf(file, seeds, seed);
    const earlyStop = rule && baseline ? earlyStopOption(rule, baseline.results[i]!) : undefined;
    const { result, logPath } = await run(specFor({ path: file, className: opts.class, kwargs: layerKwargs }, seed, dir), label, earlyStop);
    results.push(result);
    if (!opts.json) process.stdout.write(formatResult(label, result, logPath) + "\n");
  }
  const manifest = tokenManifestOf(specFor({ path: file, className: opts.class }, firstSeed, runDir));
  if (manifest && !opts.json) process.stdout.write(`token data: manifest sha256 ${manifest}\n`);
  if ((!baselineFile && seeds.length === 1) || results.some((r) => r.status === "stopped_early")) {
    // a stopped run was not evaluated: there is nothing to compare (its evidence is printed above)
    if (opts.json) process.stdout.write(JSON.stringify(seeds.length === 1 && !baseline ? results[0] : { results, baseline, comparison: null }, null, 2) + "\n");
    return results.every((r) => exitCodeFor(r) === 0) ? 0 : 1;
  }
  if (baselineFile && !baseline) baseline = await trainBaseline(baselineFile);
  // One rule with the analyst and `archlab confirm`: paired differences judged against the noise floor, here
  // the baseline's own std over these seeds (none with one seed: nothing is called better or worse then).
  const comparison: MetricComparison[] | null = baseline ? compareToBaseline(results, baseline.results, floorOfRuns(baseline.results)) : null;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ results, baseline, comparison }, null, 2) + "\n");
  } else {
    const against = baseline ? `${shortPath(baseline.layer)} (${baseline.class_name}${baseline.cached.length ? `, seeds ${baseline.cached.join(",")} from the cache` : ""})` : null;
    process.stdout.write(formatComparison(results, comparison, against) + "\n");
  }
  return results.every((r) => r.status === "ok") ? 0 : 1;
}

async function runOne(spec: RunSpec, label: string, gpu: string | undefined, opts: EvaluateOptions, earlyStop?: EarlyStopOption) {
  const progress = opts.json ? undefined : progressPrinter(label);
  const runDir = path.dirname(spec.result_path);
  const run = await earlyStopping(new LocalRunner()).run(spec, { runDir, onProgress: progress?.update, gpu, sandbox: opts.sandbox, earlyStop });
  progress?.finish();
  return { ...run, logPath: path.join(runDir, "harness.log") };
}

/** --early-stop [margin] and --early-stop-warmup as a rule (defaults from contracts/ladder.ts), or null. */
function earlyStopRule(opts: EvaluateOptions): Partial<EarlyStopRule> | null {
  if (opts.earlyStop === undefined) {
    if (opts.earlyStopWarmup !== undefined) throw new UserError("--early-stop-warmup applies with --early-stop");
    return null;
  }
  return {
    ...(opts.earlyStop === true ? {} : { margin: positiveNumber(opts.earlyStop, "--early-stop") }),
    ...(opts.earlyStopWarmup === undefined ? {} : { warmup_fraction: fraction(opts.earlyStopWarmup, "--early-stop-warmup") }),
  };
}

function presetFor<T extends string>(name: string | undefined, names: readonly T[], fallback: T): T {
  if (name === undefined) return fallback;
  if (!(names as readonly string[]).includes(name)) throw new UserError(`unknown preset "${name}" (presets: ${names.join(", ")})`);
  return name as T;
}

function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

function labelOf(file: string, seeds: readonly number[], seed: number): string {
  return seeds.length === 1 ? path.basename(file) : `${path.basename(file)} seed ${seed}`;
}

/** A baseline path as given, else relative to the project (so the default works from any directory). */
function resolveBaseline(file: string): string {
  const candidates = [path.resolve(file), path.resolve(PROJECT_ROOT, file)];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new UserError(`no such baseline file: ${file}`);
  checkLayerFile(found);
  return found;
}

/** 0 for a run that finished (ok) or was stopped early on purpose (a verdict, not a failure); 1 otherwise. */
export function exitCodeFor(result: RunResult): number {
  return result.status === "ok" || result.status === "stopped_early" ? 0 : 1;
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

function memoryLimit(text: string): number {
  const value = positiveInt(text, "--memory-mb");
  if (value < MIN_MEMORY_MB) throw new UserError(`--memory-mb must be ${MEMORY_FLOOR_REASON}, not ${value}`);
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
  const view: RunView = { id: label, name: "", stage: "" };
  return {
    update(event: ProgressEvent) {
      let text: string | undefined;
      track(view, event, Date.now());
      if (event.event === "step") {
        text = `${label}: ${stepText(view)}`; // step/total, loss, tokens/s and ETA (cli/runProgress.ts)
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
