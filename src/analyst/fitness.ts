/**
 * Fitness (DESIGN §5). Two formulas over the same stored inputs:
 * - `noise` (default): each term is the difference from the baseline in units of the stage's noise floor
 *   (the baseline's std over seeds), so a candidate 30% better than the baseline is not tied with one 60%
 *   better: z_loss = (Lb - L) / floor_L, z_bench = (B - Bb) / floor_B, z_judge = (J - 0.5) * judge_scale;
 *   fitness = sum w_i z_i / sum_present w_i. 0 is the baseline; 1 is one noise floor better. The benchmark's
 *   weight defaults to 0 here (DEFAULT_BENCHMARK_WEIGHT): B is measured, stored and reported with its own
 *   verdict, but neither ranks nor decides a confirmation (analyst/confirm.ts decidingMetrics).
 * - `asi-arch`: sigma(6 * clip((Lb - L) / (0.1 Lb), -1, 1)) + sigma(6 * clip((B - Bb) / (0.1 Bb), -1, 1)) + J,
 *   a missing term left out and the rest rescaled by (sum of all weights) / (sum of present weights).
 * Either way the fitness records its noise band: k standard deviations of the value that the candidate's own
 * run-to-run noise (floor / sqrt(samples) per metric) puts on it, propagated through the formula. The
 * baseline's own uncertainty is common to every candidate, so it is left out of the band used for ranking.
 * Pure: everything it reads is returned in `inputs`, so a stored fitness can be recomputed.
 */
import { z } from "zod";
import type { Fitness } from "../contracts/experiment.ts";
import { DEFAULT_K, floorOf } from "./verdicts.ts";

export const FitnessConfig = z.strictObject({
  kind: z.enum(["noise", "asi-arch"]).default("noise"),
  weights: z.strictObject({
    loss: z.number().nonnegative().default(1),
    /** Default by kind: DEFAULT_BENCHMARK_WEIGHT. */
    benchmark: z.number().nonnegative().optional(),
    judge: z.number().nonnegative().default(1),
  }).prefault({}),
  /** asi-arch: relative change that saturates a term (0.1 = 10% better than the baseline -> sigma(6)). */
  scale: z.number().positive().default(0.1),
  /** asi-arch: the sigmoid's steepness. */
  steepness: z.number().positive().default(6),
  /** noise: a judge score J in [0, 1] counts as (J - 0.5) * judge_scale noise floors. */
  judge_scale: z.number().nonnegative().default(4),
  /** The noise band is k standard deviations wide (each side). */
  k: z.number().positive().default(DEFAULT_K),
});
export type FitnessConfig = z.infer<typeof FitnessConfig>;

/**
 * The benchmark term's weight when the campaign file gives none. asi-arch: 1, ASI-Arch's formula. noise: 0,
 * measured (README, Benchmarks, fidelity and yield): ranked against the lm-cpu rung's held-out loss, the quick
 * proxy's benchmarks (B) agreed in 58% of 66 pairs over 12 diverse layers and 36% of 36 pairs over a campaign's 8
 * confirmed winners and the baseline, its LM loss (L) in 85% and 78%; equal weights gave 64% and 39%, weight 0.1
 * 80% and 69%, weight 0 85% and 78%. A campaign that wants B ranked sets `fitness.weights.benchmark`.
 */
export const DEFAULT_BENCHMARK_WEIGHT = { "noise": 0, "asi-arch": 1 } as const;

/** The weights a config ranks by, the benchmark's default resolved by kind. */
export function fitnessWeights(config: FitnessConfig): { loss: number; benchmark: number; judge: number } {
  return { ...config.weights, benchmark: config.weights.benchmark ?? DEFAULT_BENCHMARK_WEIGHT[config.kind] };
}

export interface FitnessInputs {
  loss: number | null;
  baselineLoss: number | null;
  benchmark: number | null;
  baselineBenchmark: number | null;
  judge: number | null;
  /** The stage's noise floor (baseline std over seeds) for the loss and the benchmark; null: unknown. */
  lossFloor?: number | null;
  benchmarkFloor?: number | null;
  /** Seeds the candidate's metrics are a mean over. */
  samples?: number | null;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const clip = (x: number) => Math.max(-1, Math.min(1, x));

export const FITNESS_FORMULAS = {
  "noise": "sum_i w_i*z_i / sum_present w; z_loss = (Lb-L)/floor_L, z_bench = (B-Bb)/floor_B, z_judge = (J-0.5)*judge_scale",
  "asi-arch": "sum_i w_i*t_i * (sum_all w / sum_present w); t_loss = sigmoid(k*clip((Lb-L)/(s*Lb))), t_bench = sigmoid(k*clip((B-Bb)/(s*Bb))), t_judge = J",
} as const;

/** The terms and value, or null when no term can be computed. */
function evaluate(inputs: FitnessInputs, config: FitnessConfig): { value: number; terms: Record<string, number> } | null {
  const weights = fitnessWeights(config);
  const terms: Record<string, number> = {};
  const pairs = [
    ["loss", inputs.baselineLoss, inputs.loss, inputs.lossFloor],
    ["benchmark", inputs.benchmark, inputs.baselineBenchmark, inputs.benchmarkFloor],
  ] as const;
  for (const [name, better, worse, floor] of pairs) {
    const base = name === "loss" ? inputs.baselineLoss : inputs.baselineBenchmark;
    if (!isNum(better) || !isNum(worse) || !isNum(base)) continue;
    if (config.kind === "noise") {
      if (isNum(floor) && floor > 0) terms[name] = (better - worse) / floor;
    } else if (base !== 0) {
      terms[name] = sigmoid(config.steepness * clip((better - worse) / (config.scale * Math.abs(base))));
    }
  }
  if (isNum(inputs.judge)) {
    const j = Math.max(0, Math.min(1, inputs.judge));
    terms.judge = config.kind === "noise" ? (j - 0.5) * config.judge_scale : j;
  }
  const names = Object.keys(terms) as (keyof typeof weights)[];
  const present = names.reduce((s, n) => s + weights[n], 0);
  if (names.length === 0 || present === 0) return null;
  const weighted = names.reduce((s, n) => s + weights[n] * terms[n]!, 0);
  const all = weights.loss + weights.benchmark + weights.judge;
  return { value: config.kind === "noise" ? weighted / present : (weighted * all) / present, terms };
}

/** Returns null when no term can be computed (e.g. the candidate has no loss and no benchmark). */
export function computeFitness(inputs: FitnessInputs, config: FitnessConfig = FitnessConfig.parse({})): Fitness | null {
  const out = evaluate(inputs, config);
  if (!out) return null;
  return {
    value: out.value,
    inputs: { ...inputs },
    terms: out.terms,
    formula: FITNESS_FORMULAS[config.kind],
    kind: config.kind,
    band: bandOf(inputs, config),
  };
}

/**
 * k * std of the value from the candidate's noise: each metric moves with std floor / sqrt(samples); its effect
 * on the value is the formula's slope (a central difference) times that. Null when no floor is known.
 */
function bandOf(inputs: FitnessInputs, config: FitnessConfig): number | null {
  const n = isNum(inputs.samples ?? null) && inputs.samples! > 0 ? inputs.samples! : 1;
  let variance = 0;
  let known = false;
  for (const [key, floorKey] of [["loss", "lossFloor"], ["benchmark", "benchmarkFloor"]] as const) {
    const x = inputs[key];
    const floor = inputs[floorKey] ?? null;
    if (!isNum(x) || !isNum(floor)) continue;
    const sd = floor / Math.sqrt(n);
    const h = sd * 1e-3 || 1e-9;
    const up = evaluate({ ...inputs, [key]: x + h }, config)?.value;
    const down = evaluate({ ...inputs, [key]: x - h }, config)?.value;
    if (up === undefined || down === undefined) continue;
    variance += (((up - down) / (2 * h)) * sd) ** 2;
    known = true;
  }
  return known ? config.k * Math.sqrt(variance) : null;
}

/**
 * The fitness inputs of a candidate's final metrics against the baseline's (means over seeds, with
 * "<metric>:std" keys, see campaign/baseline.ts combineSeeds). `samples`: the candidate's seeds.
 */
export function fitnessInputs(metrics: Record<string, number>, baseline: Record<string, number> | null, judge: number | null, samples: number): FitnessInputs {
  return {
    loss: metrics.eval_loss ?? null, baselineLoss: baseline?.eval_loss ?? null,
    benchmark: metrics.score ?? null, baselineBenchmark: baseline?.score ?? null, judge,
    lossFloor: floorOf(baseline, "eval_loss"), benchmarkFloor: floorOf(baseline, "score"), samples,
  };
}

/**
 * Whether a fitness beats the baseline beyond its noise band: value - band > the baseline's own fitness under
 * the same formula and inputs (0 for `noise`; 1.5 for `asi-arch` without a judge).
 */
export function beatsBaseline(fitness: Fitness, config: FitnessConfig = FitnessConfig.parse({})): boolean {
  return versusBaseline(fitness, config) === "better";
}

/** The fitness's verdict against the baseline's own (same formula and inputs): beyond its noise band or within it. */
export function versusBaseline(fitness: Fitness, config: FitnessConfig = FitnessConfig.parse({})): "better" | "worse" | "within noise" | null {
  const inputs = fitness.inputs as unknown as FitnessInputs;
  const itself = evaluate({ ...inputs, loss: inputs.baselineLoss, benchmark: inputs.baselineBenchmark }, config);
  if (!itself) return null;
  const band = fitness.band ?? 0;
  return fitness.value - band > itself.value ? "better" : fitness.value + band < itself.value ? "worse" : "within noise";
}

/** Whether two fitnesses are within each other's noise: |a - b| <= sqrt(band_a^2 + band_b^2). */
export function indistinguishable(a: Pick<Fitness, "value" | "band">, b: Pick<Fitness, "value" | "band">): boolean {
  if (a.band === null || a.band === undefined || b.band === null || b.band === undefined) return a.value === b.value;
  return Math.abs(a.value - b.value) <= Math.hypot(a.band, b.band);
}

function isNum(x: number | null | undefined): x is number {
  return x !== null && x !== undefined && Number.isFinite(x);
}

/**
 * Whether a candidate must be re-run on another seed before it is ranked above `best`: it is above it but
 * within the two fitnesses' noise bands, and rests on fewer than `maxSamples` seeds.
 */
export function needsMoreSeeds(candidate: Pick<Fitness, "value" | "band" | "inputs">, best: Pick<Fitness, "value" | "band"> | null, maxSamples: number): boolean {
  if (!best || candidate.value <= best.value || !indistinguishable(candidate, best)) return false;
  const n = candidate.inputs.samples;
  return (typeof n === "number" ? n : 1) < maxSamples;
}
