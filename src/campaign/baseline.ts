/**
 * The baseline (DESIGN §4): the reference layer is trained once per stage config and seed and cached in the
 * archive (`baselines/<key>.json`), so every candidate's fitness compares against the same numbers.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spread } from "../analyst/seeds.ts";
import { writeFileAtomicSync } from "../atomic.ts";
import { noiseFloorOf, type NoiseFloor } from "../analyst/verdicts.ts";
import { RunResult } from "../contracts/result.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import type { CampaignConfig } from "./config.ts";
import { firstRung, rungSpec, type TrainingRung } from "./rungs.ts";

export interface BaselineEntry {
  key: string;
  layer: string;
  results: RunResult[];
}

/** Where an archive keeps its baselines. */
export const baselineDir = (archiveDir: string) => path.join(archiveDir, "baselines");

/**
 * The baseline's runs on a rung (default: the first training rung) for a campaign config: seeds seed ..
 * seed + baseline_seeds - 1 (at least as many as the candidates train on), trained once and cached; their spread
 * is the rung's noise floor. `device` is the torch device of the slot's runs (deviceOf: "cuda" for a GPU slot,
 * whose child sees only that GPU; "cpu" by default). Throws a UserError for a missing baseline layer (and, through stageSpec,
 * a missing corpus or token directory).
 */
export function baselineSpecs(archiveDir: string, config: CampaignConfig, seeds?: readonly number[], device = "cpu", rung: TrainingRung = firstRung(config)): RunSpec[] {
  const layerPath = path.resolve(PROJECT_ROOT, config.baseline.path);
  if (!fs.existsSync(layerPath)) throw new UserError(`no such baseline layer: ${layerPath} (baseline.path)`);
  // The proxy's runs keep the folder they always had; other rungs (an LM checkpoint resumes from its folder) their own.
  const runs = rung.stage === "proxy" ? path.join(baselineDir(archiveDir), "runs") : path.join(baselineDir(archiveDir), "runs", `${rung.name}-${rung.preset}`);
  return (seeds ?? noiseFloorSeeds(config, rung)).map((seed) => rungSpec(config, rung, {
    layerPath, className: config.baseline.class_name, runDir: path.join(runs, `seed${seed}`), seed, device,
  }));
}

/** The torch device a slot's runs use: the child sees only the slot's GPU (CUDA_VISIBLE_DEVICES). */
export function deviceOf(gpu: string | undefined): string {
  return gpu === undefined ? "cpu" : "cuda";
}

export function noiseFloorSeeds(config: CampaignConfig, rung: TrainingRung = firstRung(config)): number[] {
  const n = Math.max(rung.baseline_seeds, rung.seeds);
  return Array.from({ length: n }, (_, i) => config.seed + i);
}

/** The seeds a candidate of this config trained on at a rung (the ones that selected it). */
export function selectionSeeds(config: CampaignConfig, rung: TrainingRung = firstRung(config)): number[] {
  return Array.from({ length: rung.seeds }, (_, i) => config.seed + i);
}

/** Same spec (minus where files go) and same layer source -> same key. */
export function baselineKey(specs: readonly RunSpec[]): string {
  const hash = createHash("sha256");
  for (const spec of specs) {
    // The timeout is a limit, not part of what a finished run computes: a campaign that tightens it reuses the cache.
    // Where the files go (result, checkpoint) is not either: an LM baseline's checkpoint path is in its run folder.
    const { result_path: _r, timeout_s: _t, checkpoint_path: _c, layer, ...rest } = spec;
    hash.update(JSON.stringify({ ...rest, layer: { ...layer, path: undefined } }));
    hash.update(fs.readFileSync(layer.path));
  }
  return hash.digest("hex").slice(0, 20);
}

/** `cacheDir`: an archive's `baselines/`, or `archlab evaluate`'s `--baseline-cache`. */
export function cachedBaseline(cacheDir: string, key: string): BaselineEntry | null {
  const file = path.join(cacheDir, `${key}.json`);
  if (!fs.existsSync(file)) return null;
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as BaselineEntry;
  return { ...raw, results: raw.results.map((r) => RunResult.parse(r)) };
}

export function storeBaseline(cacheDir: string, entry: BaselineEntry): void {
  writeFileAtomicSync(path.join(cacheDir, `${entry.key}.json`), JSON.stringify(entry, null, 1));
}

/**
 * The stage's noise floor (each metric's std over the baseline's seeds), stored beside the per-seed entries as
 * `noise-<key>.json`, `key` the baselineKey of all the noise floor's specs.
 */
export function storeNoiseFloor(cacheDir: string, key: string, results: readonly RunResult[]): NoiseFloor {
  const noise = noiseFloorOf(results.map((r) => ({ seed: r.env.seed, metrics: r.metrics })));
  writeFileAtomicSync(path.join(cacheDir, `noise-${key}.json`), JSON.stringify(noise, null, 1));
  return noise;
}

export function cachedNoiseFloor(cacheDir: string, key: string): NoiseFloor | null {
  const file = path.join(cacheDir, `noise-${key}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as NoiseFloor) : null;
}

export type BaselineRuns =
  | { ok: true; results: RunResult[]; cached: boolean[] }
  /** The run of specs[index] did not finish ok (nothing after it ran). */
  | { ok: false; index: number; result: RunResult };

/**
 * The baseline's result for each spec (one per seed), in order: from the cache in `cacheDir` when an entry has
 * the spec's key, else run now and stored. Used by the campaign and by `archlab evaluate --baseline`.
 */
export async function baselineRuns(
  cacheDir: string, layer: string, specs: readonly RunSpec[], run: (spec: RunSpec) => Promise<RunResult>,
): Promise<BaselineRuns> {
  const results: RunResult[] = [];
  const cached: boolean[] = [];
  for (const [index, spec] of specs.entries()) {
    const key = baselineKey([spec]);
    const hit = cachedBaseline(cacheDir, key);
    // An entry from before the monitor curve was recorded cannot serve early stop: trained again, once.
    if (hit && (hit.results[0]!.monitor !== undefined || !spec.train)) {
      results.push(hit.results[0]!);
      cached.push(true);
      continue;
    }
    const result = await run(spec);
    if (result.status !== "ok") return { ok: false, index, result };
    storeBaseline(cacheDir, { key, layer, results: [result] });
    results.push(result);
    cached.push(false);
  }
  return { ok: true, results, cached };
}

/** Mean of each metric over seeds, plus "<metric>:std" and "<metric>:n" when there is more than one seed. */
export function combineSeeds(results: readonly RunResult[]): Record<string, number> {
  const values = new Map<string, number[]>();
  for (const r of results) {
    for (const [k, v] of Object.entries(r.metrics)) if (v !== null && Number.isFinite(v)) values.set(k, [...(values.get(k) ?? []), v]);
  }
  const out: Record<string, number> = {};
  for (const [k, vs] of values) {
    const { mean, std } = spread(vs);
    out[k] = mean;
    if (std !== null) {
      out[`${k}:std`] = std;
      out[`${k}:n`] = vs.length;
    }
  }
  return out;
}
