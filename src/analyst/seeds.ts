/**
 * Seed spread (issue: proxy-stage variance): a candidate and the baseline run on the same seeds see the same
 * data and initial draws, so each metric is compared per seed, and a difference counts only when its mean is
 * larger than the spread of the per-seed differences. Pure: results in, comparison rows out.
 */
import type { RunResult } from "../contracts/result.ts";
import { higherIsBetter } from "./verdicts.ts";

export interface Spread {
  mean: number;
  /** Sample standard deviation over seeds; null with one seed. */
  std: number | null;
  n: number;
}

export type Verdict = "better" | "worse" | "within spread" | "one seed";

export interface MetricComparison {
  metric: string;
  higherIsBetter: boolean;
  candidate: Spread;
  baseline: Spread;
  /** Mean and spread of (candidate - baseline) over the seeds both have. */
  difference: Spread;
  verdict: Verdict;
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
 * One row per metric both sides report on at least one shared seed, `score` and `eval_loss` first.
 * A difference is "better"/"worse" only when |mean difference| exceeds the std of the per-seed differences.
 */
export function compareToBaseline(candidate: readonly RunResult[], baseline: readonly RunResult[]): MetricComparison[] {
  const names = new Set(candidate.flatMap((r) => Object.keys(r.metrics)));
  const order = (m: string) => (m === "score" ? 0 : m === "eval_loss" ? 1 : 2);
  const rows: MetricComparison[] = [];
  for (const metric of [...names].sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const mine = metricBySeed(candidate, metric);
    const theirs = metricBySeed(baseline, metric);
    const shared = [...mine.keys()].filter((seed) => theirs.has(seed)).sort((a, b) => a - b);
    if (shared.length === 0) continue;
    const difference = spread(shared.map((seed) => mine.get(seed)! - theirs.get(seed)!));
    const up = higherIsBetter(metric);
    rows.push({
      metric, higherIsBetter: up,
      candidate: spread(shared.map((seed) => mine.get(seed)!)),
      baseline: spread(shared.map((seed) => theirs.get(seed)!)),
      difference,
      verdict: verdictOf(difference, up),
    });
  }
  return rows;
}

function verdictOf(difference: Spread, up: boolean): Verdict {
  if (difference.std === null) return "one seed";
  if (Math.abs(difference.mean) <= difference.std) return "within spread";
  return difference.mean > 0 === up ? "better" : "worse";
}
