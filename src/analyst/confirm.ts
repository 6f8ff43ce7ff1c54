/**
 * The confirmation verdict (issue 13), pure: the candidate's and the baseline's results on the same fresh
 * seeds in, paired differences and a verdict out. Decided on the metrics the campaign's fitness ranks by
 * (decidingMetrics: eval_loss under the default weights, score too when the benchmark weighs); every other shared
 * metric is reported with its own verdict.
 */
import type { Confirmation, ConfirmationMetric, ConfirmationVerdict } from "../contracts/confirmation.ts";
import type { Experiment } from "../contracts/experiment.ts";
import type { RunResult } from "../contracts/result.ts";
import { compareToBaseline } from "./seeds.ts";
import { fitnessWeights, type FitnessConfig } from "./fitness.ts";
import { confirmationVerdict, DEFAULT_K, type NoiseFloor } from "./verdicts.ts";

/** Both fitness metrics: what a confirmation decides on when the fitness ranks by neither (a judge alone). */
export const FITNESS_METRICS = ["score", "eval_loss"];

/**
 * The metrics a confirmation decides on: those the fitness ranks by (a weight above 0: loss -> eval_loss,
 * benchmark -> score), so that what a campaign claims and what confirms it are the same quantity. Measured why
 * (README, Benchmarks, yield): with the benchmark weighed 0, a campaign's best candidates traded the proxy's
 * benchmarks for its LM loss, which is the part that carried to the lm-cpu rung.
 */
export function decidingMetrics(fitness: FitnessConfig): string[] {
  const w = fitnessWeights(fitness);
  const out = [...(w.benchmark > 0 ? ["score"] : []), ...(w.loss > 0 ? ["eval_loss"] : [])];
  return out.length ? out : FITNESS_METRICS;
}

/** The smallest fresh seed: far from the campaign seeds (seed, seed + 1, ...) that select candidates. */
export const FRESH_SEED_BASE = 1000;

/** The first `count` seeds from FRESH_SEED_BASE that are not excluded. */
export function freshSeeds(count: number, excluded: Iterable<number>): number[] {
  const skip = new Set(excluded);
  const out: number[] = [];
  for (let s = FRESH_SEED_BASE; out.length < count; s++) if (!skip.has(s)) out.push(s);
  return out;
}

export function judgeConfirmation(
  candidate: readonly RunResult[], baseline: readonly RunResult[], floor: NoiseFloor | null, k = DEFAULT_K,
  deciding: readonly string[] = FITNESS_METRICS,
): { verdict: ConfirmationVerdict; metrics: ConfirmationMetric[] } {
  const seeds = candidate.map((r) => r.env.seed);
  const value = (results: readonly RunResult[], metric: string) =>
    seeds.map((s) => results.find((r) => r.env.seed === s)?.metrics[metric]).filter((v): v is number => typeof v === "number");
  const metrics = compareToBaseline(candidate, baseline, floor, k).map((row): ConfirmationMetric => ({
    metric: row.metric, higherIsBetter: row.higherIsBetter,
    candidate: value(candidate, row.metric), baseline: value(baseline, row.metric),
    mean: row.difference.mean, std: row.difference.std, floor: row.floor, band: row.band, verdict: row.verdict,
  }));
  return { verdict: verdictOn(metrics, deciding), metrics };
}

/** The verdict from per-metric verdicts, on the deciding metrics only (also re-judges a stored confirmation). */
export function verdictOn(metrics: readonly Pick<ConfirmationMetric, "metric" | "verdict">[], deciding: readonly string[]): ConfirmationVerdict {
  return confirmationVerdict(metrics.filter((m) => deciding.includes(m.metric)));
}

/** The latest confirmation's verdict, or null when never confirmed. */
export function latestVerdict(exp: Pick<Experiment, "confirmations">): ConfirmationVerdict | null {
  return exp.confirmations?.at(-1)?.verdict ?? null;
}

/**
 * What a campaign calls a win (a discovery): a candidate whose confirmation on fresh seeds (its latest, unless
 * told which) says "confirmed better"; never a single-seed fitness, however far beyond the noise band (at the
 * tiny preset none of the candidates beyond the band held on fresh seeds; README, "yield").
 */
export function claimedWin(confirmation: Pick<Confirmation, "verdict"> | null | undefined): boolean {
  return confirmation?.verdict === "confirmed better";
}
