/**
 * Seed spread (issue: proxy-stage variance): a candidate and the baseline run on the same seeds see the same
 * data and initial draws, so each metric is compared per seed, and the mean paired difference gets the same
 * noise-aware verdict `archlab confirm` and the analyst give (verdicts.ts pairedVerdict: `better` / `worse`
 * beyond the noise band, else `within noise`). Pure: results in, comparison rows out.
 */
import type { RunResult } from "../contracts/result.ts";
import { DEFAULT_K, higherIsBetter, noiseFloorOf, pairedVerdict, type NoiseFloor, type NoiseVerdict } from "./verdicts.ts";

export interface Spread {
  mean: number;
  /** Sample standard deviation over seeds; null with one seed. */
  std: number | null;
  n: number;
}

export interface MetricComparison {
  metric: string;
  higherIsBetter: boolean;
  candidate: Spread;
  baseline: Spread;
  /** Mean and spread of (candidate - baseline) over the seeds both have. */
  difference: Spread;
  /** The stage's noise floor for the metric (the baseline's std over seeds); null when unknown (one seed). */
  floor: number | null;
  /** |difference.mean| must exceed this to count; null without a floor or a spread. */
  band: number | null;
  verdict: NoiseVerdict;
}

export { higherIsBetter } from "./verdicts.ts";

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, std, n };
}

function metricBySeed(results: readonly RunResult[], metric: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of results) {
    const v = r.metrics[metric];
    if (r.status === "ok" && typeof v === "number" && Number.isFinite(v)) out.set(r.env.seed, v);
  }
  return out;
}

/**
 * One row per metric both sides report on at least one shared seed, `score` and `eval_loss` first. The
 * verdict is pairedVerdict's on the mean per-seed difference, with `floor` the stage's noise floor.
 */
export function compareToBaseline(
  candidate: readonly RunResult[], baseline: readonly RunResult[], floor: NoiseFloor | null, k = DEFAULT_K,
): MetricComparison[] {
  const names = new Set(candidate.flatMap((r) => Object.keys(r.metrics)));
  const order = (m: string) => (m === "score" ? 0 : m === "eval_loss" ? 1 : 2);
  const rows: MetricComparison[] = [];
  for (const metric of [...names].sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const mine = metricBySeed(candidate, metric);
    const theirs = metricBySeed(baseline, metric);
    const shared = [...mine.keys()].filter((seed) => theirs.has(seed)).sort((a, b) => a - b);
    if (shared.length === 0) continue;
    const difference = spread(shared.map((seed) => mine.get(seed)! - theirs.get(seed)!));
    const judged = pairedVerdict(metric, difference, floor?.metrics[metric]?.std ?? null, k);
    rows.push({
      metric, higherIsBetter: higherIsBetter(metric),
      candidate: spread(shared.map((seed) => mine.get(seed)!)),
      baseline: spread(shared.map((seed) => theirs.get(seed)!)),
      difference, floor: judged.floor, band: judged.band, verdict: judged.verdict,
    });
  }
  return rows;
}

/** The noise floor a set of baseline runs gives (their per-metric std over seeds); null with fewer than two. */
export function floorOfRuns(baseline: readonly RunResult[]): NoiseFloor | null {
  const ok = baseline.filter((r) => r.status === "ok");
  return ok.length < 2 ? null : noiseFloorOf(ok.map((r) => ({ seed: r.env.seed, metrics: r.metrics })));
}
