/**
 * The confirmation verdict (issue 13), pure: the candidate's and the baseline's results on the same fresh
 * seeds in, paired differences and a verdict out. Decided on the fitness metrics (score, eval_loss); every
 * other shared metric is reported with its own verdict.
 */
import type { Confirmation, ConfirmationMetric, ConfirmationVerdict } from "../contracts/confirmation.ts";
import type { Experiment } from "../contracts/experiment.ts";
import type { RunResult } from "../contracts/result.ts";
import { compareToBaseline } from "./seeds.ts";
import { confirmationVerdict, DEFAULT_K, type NoiseFloor } from "./verdicts.ts";

export const DECIDING_METRICS = ["score", "eval_loss"];

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
): { verdict: ConfirmationVerdict; metrics: ConfirmationMetric[] } {
  const seeds = candidate.map((r) => r.env.seed);
  const value = (results: readonly RunResult[], metric: string) =>
    seeds.map((s) => results.find((r) => r.env.seed === s)?.metrics[metric]).filter((v): v is number => typeof v === "number");
  const metrics = compareToBaseline(candidate, baseline, floor, k).map((row): ConfirmationMetric => ({
    metric: row.metric, higherIsBetter: row.higherIsBetter,
    candidate: value(candidate, row.metric), baseline: value(baseline, row.metric),
    mean: row.difference.mean, std: row.difference.std, floor: row.floor, band: row.band, verdict: row.verdict,
  }));
  const deciding = metrics.filter((m) => DECIDING_METRICS.includes(m.metric));
  return { verdict: confirmationVerdict(deciding), metrics };
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
