/**
 * A confirmation (issue 13): a candidate re-trained on fresh seeds (never the seeds that selected it) against
 * the baseline on the same seeds, with the paired differences and a verdict. Stored on the experiment.
 */
import { z } from "zod";

export const MetricVerdict = z.enum(["better", "worse", "within noise"]);
export const ConfirmationVerdict = z.enum(["confirmed better", "not confirmed", "confirmed worse"]);
export type ConfirmationVerdict = z.infer<typeof ConfirmationVerdict>;

export const ConfirmationMetric = z.object({
  metric: z.string(),
  higherIsBetter: z.boolean(),
  /** Per fresh seed (the order of `seeds`), the candidate's and the baseline's values. */
  candidate: z.array(z.number()),
  baseline: z.array(z.number()),
  /** Mean and sample std of the paired differences (candidate - baseline); std null with one seed. */
  mean: z.number(),
  std: z.number().nullable(),
  /** The stage's noise floor for this metric (baseline std over its seeds), and the band the mean had to clear. */
  floor: z.number().nullable(),
  band: z.number().nullable(),
  verdict: MetricVerdict,
});
export type ConfirmationMetric = z.infer<typeof ConfirmationMetric>;

export const Confirmation = z.object({
  at: z.string(),
  stage: z.string(),
  preset: z.string().nullable(),
  /** The fresh seeds trained now, and the seeds excluded because they selected it (or confirmed it before). */
  seeds: z.array(z.number().int()),
  excludedSeeds: z.array(z.number().int()),
  verdict: ConfirmationVerdict,
  /** Decided on these metrics (score, eval_loss); every shared metric is listed in `metrics`. */
  decidedOn: z.array(z.string()),
  metrics: z.array(ConfirmationMetric),
  /** Why it could not be decided (a run failed on a fresh seed); null when every run finished. */
  failure: z.string().nullable(),
  /** Seconds of training this confirmation cost (candidate runs + baseline runs not found in the cache). */
  wallS: z.number(),
  runDir: z.string(),
});
export type Confirmation = z.infer<typeof Confirmation>;
