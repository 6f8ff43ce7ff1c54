/**
 * Fitness (DESIGN §5), ASI-Arch's by default:
 *   sigma(6 * clip((Lb - L) / (0.1 Lb), -1, 1)) + sigma(6 * clip((B - Bb) / (0.1 Bb), -1, 1)) + J
 * L = the candidate's loss, B = its mean benchmark score, _b = the baseline's, J = an LLM judge's score in [0, 1].
 * A term whose input is missing (no judge without an LLM) is left out and the rest rescaled by
 * (sum of all weights) / (sum of present weights): never a made-up constant in its place.
 * Pure: everything it reads is returned in `inputs`, so a stored fitness can be recomputed.
 */
import { z } from "zod";
import type { Fitness } from "../contracts/experiment.ts";

export const FitnessConfig = z.strictObject({
  weights: z.strictObject({
    loss: z.number().nonnegative().default(1),
    benchmark: z.number().nonnegative().default(1),
    judge: z.number().nonnegative().default(1),
  }).prefault({}),
  /** Relative change that saturates a term (0.1 = 10% better than the baseline -> sigma(6)). */
  scale: z.number().positive().default(0.1),
  steepness: z.number().positive().default(6),
});
export type FitnessConfig = z.infer<typeof FitnessConfig>;

export interface FitnessInputs {
  loss: number | null;
  baselineLoss: number | null;
  benchmark: number | null;
  baselineBenchmark: number | null;
  judge: number | null;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const clip = (x: number) => Math.max(-1, Math.min(1, x));

export const FITNESS_FORMULA = "sum_i w_i*t_i * (sum_all w / sum_present w); t_loss = sigmoid(k*clip((Lb-L)/(s*Lb))), t_bench = sigmoid(k*clip((B-Bb)/(s*Bb))), t_judge = J";

/** Returns null when no term can be computed (e.g. the candidate has no loss and no benchmark). */
export function computeFitness(inputs: FitnessInputs, config: FitnessConfig = FitnessConfig.parse({})): Fitness | null {
  const { weights, scale, steepness } = config;
  const relative = (better: number, base: number) => sigmoid(steepness * clip(better / (scale * Math.abs(base))));
  const terms: Record<string, number> = {};
  if (isNum(inputs.loss) && isNum(inputs.baselineLoss) && inputs.baselineLoss !== 0) {
    terms.loss = relative(inputs.baselineLoss - inputs.loss, inputs.baselineLoss);
  }
  if (isNum(inputs.benchmark) && isNum(inputs.baselineBenchmark) && inputs.baselineBenchmark !== 0) {
    terms.benchmark = relative(inputs.benchmark - inputs.baselineBenchmark, inputs.baselineBenchmark);
  }
  if (isNum(inputs.judge)) terms.judge = Math.max(0, Math.min(1, inputs.judge));
  const names = Object.keys(terms) as (keyof typeof weights)[];
  const present = names.reduce((s, n) => s + weights[n], 0);
  if (names.length === 0 || present === 0) return null;
  const all = weights.loss + weights.benchmark + weights.judge;
  const weighted = names.reduce((s, n) => s + weights[n] * terms[n]!, 0);
  return {
    value: (weighted * all) / present,
    inputs: { ...inputs },
    terms,
    formula: FITNESS_FORMULA,
  };
}

function isNum(x: number | null): x is number {
  return x !== null && Number.isFinite(x);
}
