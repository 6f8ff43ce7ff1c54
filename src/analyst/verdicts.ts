/**
 * Noise-aware verdicts (DESIGN §4): the stage's noise floor is the baseline's per-metric standard deviation
 * over seeds. A difference is `better` or `worse` only when it is larger than the noise band, k standard
 * errors of the difference; otherwise it is `within noise`. Pure functions, numbers in, verdicts out.
 */
import type { Spread } from "./seeds.ts";

export type NoiseVerdict = "better" | "worse" | "within noise";

/** How many standard errors a difference must exceed (2: about a 95% two-sided band). */
export const DEFAULT_K = 2;

/** Per metric: the baseline's std over seeds (`floor`) and how many seeds it rests on. */
export interface NoiseFloor {
  seeds: number[];
  metrics: Record<string, { mean: number; std: number; n: number }>;
}

export interface Judged {
  metric: string;
  /** this - reference, signed as measured. */
  difference: number;
  /** The stage's noise floor for this metric (std of one run); null when the stage has none. */
  floor: number | null;
  /** |difference| must exceed this to count; null when the floor is unknown. */
  band: number | null;
  verdict: NoiseVerdict;
}

/** Losses, bits per byte and perplexities go down; accuracies and scores go up. */
export function higherIsBetter(metric: string): boolean {
  return !/(^|\/)(eval_loss|loss|bpb|ppl|perplexity)$/.test(metric);
}

/**
 * The band for a difference of two means over nA and nB independent runs of one stage config:
 * k * floor * sqrt(1/nA + 1/nB). Null when there is no floor.
 */
export function noiseBand(floor: number | null, nA = 1, nB = 1, k = DEFAULT_K): number | null {
  if (floor === null || !Number.isFinite(floor)) return null;
  return k * floor * Math.sqrt(1 / nA + 1 / nB);
}

/** The verdict on a signed difference given its band; an unknown band is never evidence. */
export function verdictOf(metric: string, difference: number, band: number | null): NoiseVerdict {
  if (band === null || Math.abs(difference) <= band) return "within noise";
  return difference > 0 === higherIsBetter(metric) ? "better" : "worse";
}

/** One metric, this vs a reference (parent, sibling, baseline), each a mean over nA / nB seeds. */
export function judgeMetric(metric: string, value: number, reference: number, floor: number | null, nA = 1, nB = 1, k = DEFAULT_K): Judged {
  const difference = value - reference;
  const band = noiseBand(floor, nA, nB, k);
  return { metric, difference, floor, band, verdict: verdictOf(metric, difference, band) };
}

/**
 * Paired differences over fresh seeds (candidate - baseline on the same seed): same data and initial draws,
 * so a steady gain smaller than the between-seed spread still counts. The band is k standard errors of the
 * mean paired difference; the pairs' std is never taken below a tenth of the stage's floor (three identical
 * pairs must not make a zero-width band). With one seed there is no pairs' std: the floor's band for one run
 * each (k * floor * sqrt(2)).
 */
export function pairedVerdict(metric: string, difference: Spread, floor: number | null, k = DEFAULT_K): Judged {
  let band: number | null;
  if (difference.std === null || difference.n < 2) band = noiseBand(floor, 1, 1, k);
  else band = (k * Math.max(difference.std, PAIRED_MIN_SHARE * (floor ?? 0))) / Math.sqrt(difference.n);
  return { metric, difference: difference.mean, floor, band, verdict: verdictOf(metric, difference.mean, band) };
}

/** The smallest pairs' std trusted, as a share of the stage's floor. */
export const PAIRED_MIN_SHARE = 0.1;

export type ConfirmationVerdict = "confirmed better" | "not confirmed" | "confirmed worse";

/**
 * The experiment's verdict from its per-metric verdicts on the fitness metrics (score, eval_loss): better on
 * at least one and worse on none -> confirmed better; the mirror -> confirmed worse; else not confirmed.
 */
export function confirmationVerdict(judged: readonly Pick<Judged, "verdict">[]): ConfirmationVerdict {
  const better = judged.some((j) => j.verdict === "better");
  const worse = judged.some((j) => j.verdict === "worse");
  if (better && !worse) return "confirmed better";
  if (worse && !better) return "confirmed worse";
  return "not confirmed";
}

/** A floor is never below this share of the metric's |mean| (a metric flat across seeds is not noise-free). */
export const MIN_RELATIVE_FLOOR = 1e-3;

const floored = (std: number, mean: number) => Math.max(std, MIN_RELATIVE_FLOOR * Math.abs(mean), 1e-9);

/** The floor of one metric from baseline metrics with "<metric>:std" keys (campaign/baseline.ts combineSeeds). */
export function floorOf(baseline: Record<string, number> | null, metric: string): number | null {
  const std = baseline?.[`${metric}:std`];
  const mean = baseline?.[metric];
  return std === undefined || mean === undefined ? null : floored(std, mean);
}

/** The floor from the baseline's per-seed metrics: std over seeds (floored as above), per metric. */
export function noiseFloorOf(perSeed: readonly { seed: number; metrics: Record<string, number | null> }[]): NoiseFloor {
  const values = new Map<string, number[]>();
  for (const r of perSeed) {
    for (const [k, v] of Object.entries(r.metrics)) if (v !== null && Number.isFinite(v)) values.set(k, [...(values.get(k) ?? []), v]);
  }
  const metrics: NoiseFloor["metrics"] = {};
  for (const [k, vs] of values) {
    if (vs.length < 2) continue;
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    const std = Math.sqrt(vs.reduce((a, b) => a + (b - mean) ** 2, 0) / (vs.length - 1));
    metrics[k] = { mean, std: floored(std, mean), n: vs.length };
  }
  return { seeds: perSeed.map((r) => r.seed), metrics };
}

/** "+0.0123 (floor 0.0040, band ±0.0113): better" */
export function describeJudged(j: Judged, digits = 4): string {
  const signed = `${j.difference >= 0 ? "+" : ""}${j.difference.toFixed(digits)}`;
  const noise = j.band === null ? "no noise floor" : `floor ${j.floor!.toFixed(digits)}, band ±${j.band.toFixed(digits)}`;
  return `${signed} (${noise}): ${j.verdict}`;
}
