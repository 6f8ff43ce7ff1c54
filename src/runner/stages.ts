/**
 * Stage presets (DESIGN §4): each stage is a run spec with a model size, data, steps and limits. A campaign
 * file may override them later; `archlab evaluate --stage` picks one by name.
 */
import fs from "node:fs";
import path from "node:path";
import { DataSpec, MAX_EXPONENT, ModelSpec, ProbeSpec, RUN_SPEC_SCHEMA, TrainSpec, type RunSpec } from "../contracts/runSpec.ts";
import type { Tokenizer } from "../contracts/tokens.ts";
import { defaultData, readManifest } from "../data/prepare.ts";
import { UserError } from "../errors.ts";
import { EXPERIMENTS_DIR } from "../paths.ts";

export const STAGES = ["smoke", "probe", "proxy", "lm"] as const;
export type StageName = (typeof STAGES)[number];

/** The proxy presets (experiments/harness/proxy_presets.json holds one entry per name; a test checks it). */
export const PROXY_PRESETS = ["tiny", "quick", "full"] as const;
export type ProxyPreset = (typeof PROXY_PRESETS)[number];
export const DEFAULT_PROXY_PRESET: ProxyPreset = "quick";

/** The LM presets (experiments/harness/lm_presets.json holds one entry per name; a test checks it). */
export const LM_PRESETS = ["tiny", "lm-cpu", "explore", "verify"] as const;
export type LmPreset = (typeof LM_PRESETS)[number];
export const DEFAULT_LM_PRESET: LmPreset = "lm-cpu";
/** Where the embedded corpus is prepared once per tokenizer (relative to the working directory). */
export const DEFAULT_DATA_CACHE = path.join("runs", "data");

/** The probe stage's wall-clock limit, seconds. */
export const PROBE_TIMEOUT_S = 120;
/** Memory limit per run, MB (null: none). */
export const DEFAULT_MEMORY_MB = 8192;

/** Proxy-stage choices a campaign file or the CLI can make. */
export interface ProxyChoice {
  preset: ProxyPreset;
  timeout_s?: number | null;
  /** A text file or folder for the byte-level LM task (default: the Python standard library's sources). */
  corpus?: string | null;
}

/** LM-stage choices: the preset, and a prepared token directory (default: the embedded corpus, cached). */
export interface LmChoice {
  preset: LmPreset;
  data?: string | null;
  dataCache?: string;
  timeout_s?: number | null;
}

export interface ProbeChoice {
  max_exponent: number;
  max_params: number | null;
  timeout_s?: number;
}

/** The presets live beside the tasks they configure (experiments/harness/{proxy,lm}_presets.json). */
export const PROXY_PRESETS_FILE = path.join(EXPERIMENTS_DIR, "harness", "proxy_presets.json");
export const LM_PRESETS_FILE = path.join(EXPERIMENTS_DIR, "harness", "lm_presets.json");

export interface StageRequest {
  stage: string;
  layerPath: string;
  className: string;
  runDir: string;
  layerKwargs?: Record<string, unknown>;
  device?: string;
  seed?: number;
  timeoutS?: number;
  memoryMb?: number | null;
  opsBackend?: RunSpec["ops_backend"];
  proxy?: ProxyChoice;
  lm?: LmChoice;
  probe?: ProbeChoice;
  /** torch threads for stages that do not fix their own (default: 1 on CPU, torch's choice on GPU). */
  threads?: number;
}

// The run spec's defaults (contracts/runSpec.ts) are the smoke stage; its random data evaluates 2 batches.
const TINY_MODEL = ModelSpec.parse({});
const SMOKE_TRAIN = TrainSpec.parse({});
const RANDOM_DATA = DataSpec.parse({ eval_batches: 2 });
const NO_PROBES = ProbeSpec.parse({});

type StagePreset = Pick<RunSpec, "model" | "train" | "data" | "probe" | "timeout_s"> & { threads?: number | null };

type PresetEntry = { spec: Partial<StagePreset>; tokenizer?: Tokenizer };

/** A presets file: {"presets": {name: {"spec": run-spec fragment (model, train, data, timeout_s, threads)}}}. */
function readPreset(file: string, kind: string, name: string): PresetEntry {
  const presets = (JSON.parse(fs.readFileSync(file, "utf8")) as { presets: Record<string, PresetEntry> }).presets;
  const chosen = presets[name];
  if (!chosen) throw new UserError(`unknown ${kind} preset "${name}" (presets: ${Object.keys(presets).join(", ")})`);
  return chosen;
}

function fromPreset(chosen: Partial<StagePreset>, data: RunSpec["data"], timeoutS: number | null | undefined): StagePreset {
  return {
    model: { ...TINY_MODEL, ...chosen.model },
    train: { ...SMOKE_TRAIN, ...chosen.train },
    data,
    probe: NO_PROBES,
    timeout_s: timeoutS ?? chosen.timeout_s ?? 600,
    threads: chosen.threads ?? null,
  };
}

function proxyPreset(choice: ProxyChoice): StagePreset {
  const chosen = readPreset(PROXY_PRESETS_FILE, "proxy", choice.preset).spec;
  const data = { ...RANDOM_DATA, ...chosen.data };
  return fromPreset(chosen, choice.corpus ? withCorpus(data, path.resolve(choice.corpus)) : data, choice.timeout_s);
}

/** The LM stage on a prepared token directory (checked against its manifest) or the embedded corpus prepared
 * once with the preset's tokenizer; the tokens task is told the manifest's sha256 and refuses other data. */
function lmPreset(choice: LmChoice): StagePreset {
  const { spec: chosen, tokenizer } = readPreset(LM_PRESETS_FILE, "lm", choice.preset);
  const dir = path.resolve(choice.data ?? defaultData(choice.dataCache ?? DEFAULT_DATA_CACHE, tokenizer ?? "byte"));
  if (choice.data && !fs.existsSync(dir)) throw new UserError(`no such token directory: ${choice.data}`);
  const { sha256 } = readManifest(dir);
  const tasks = (chosen.data?.tasks ?? []).map((t) => (t.name === "tokens" ? { ...t, path: dir, manifest_sha256: sha256 } : t));
  return fromPreset(chosen, { ...RANDOM_DATA, ...chosen.data, tasks }, choice.timeout_s);
}

/** The sha256 of the token manifest an LM-stage spec trains on (its provenance), or null for other stages. */
export function tokenManifestOf(spec: RunSpec): string | null {
  const task = spec.data.tasks.find((t) => t.name === "tokens");
  return typeof task?.manifest_sha256 === "string" ? task.manifest_sha256 : null;
}

function withCorpus(data: RunSpec["data"], corpus: string): RunSpec["data"] {
  if (!fs.existsSync(corpus)) throw new UserError(`no such corpus: ${corpus}`);
  return { ...data, corpus }; // the byte-level LM task reads data.corpus unless its own entry names one
}

function preset(stage: string, req: StageRequest): StagePreset {
  switch (stage) {
    case "smoke":
      return {
        model: TINY_MODEL,
        train: SMOKE_TRAIN,
        data: RANDOM_DATA,
        probe: NO_PROBES,
        timeout_s: 300,
        threads: 1,
      };
    case "probe": {
      const probe = req.probe ?? { max_exponent: MAX_EXPONENT, max_params: null };
      return {
        model: TINY_MODEL, train: null, data: RANDOM_DATA,
        probe: ProbeSpec.parse({ enabled: true, max_exponent: probe.max_exponent, max_params: probe.max_params }),
        timeout_s: probe.timeout_s ?? PROBE_TIMEOUT_S,
        threads: 1,
      };
    }
    case "proxy":
      return proxyPreset(req.proxy ?? { preset: DEFAULT_PROXY_PRESET });
    case "lm":
      return lmPreset(req.lm ?? { preset: DEFAULT_LM_PRESET });
    default:
      throw new UserError(`unknown stage "${stage}" (stages: ${STAGES.join(", ")})`);
  }
}

export function stageSpec(req: StageRequest): RunSpec {
  const base = preset(req.stage, req);
  return {
    schema: RUN_SPEC_SCHEMA,
    stage: req.stage,
    layer: { path: path.resolve(req.layerPath), class_name: req.className, kwargs: req.layerKwargs ?? {} },
    result_path: path.join(path.resolve(req.runDir), "result.json"),
    // A killed LM run resumes from here when run again in the same directory.
    checkpoint_path: req.stage === "lm" ? path.join(path.resolve(req.runDir), "checkpoint.pt") : null,
    ...base,
    timeout_s: req.timeoutS ?? base.timeout_s,
    device: req.device ?? "cpu",
    dtype: "auto",
    seed: req.seed ?? 0,
    memory_mb: req.memoryMb === undefined ? DEFAULT_MEMORY_MB : req.memoryMb,
    // On CPU one thread per run unless told otherwise: several threads spin against each other on small
    // models and busy machines (measured 5x slower at d=64); GPU runs leave it to torch.
    threads: base.threads ?? req.threads ?? ((req.device ?? "cpu") === "cpu" ? 1 : null),
    compile: (req.device ?? "cpu").startsWith("cuda"),
    ops_backend: req.opsBackend ?? "auto",
  };
}
