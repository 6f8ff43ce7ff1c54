/**
 * The ladder's policy settings (DESIGN §4): a rung's promotion rule and the early-stop rule, as a campaign file
 * writes them. Defined once here; the pure policies that read them are in src/ladder/policy.ts.
 */
import { z } from "zod";

/** Every condition given must hold for a candidate to climb (an empty rule promotes everything that finished). */
export const PromotionRule = z.strictObject({
  /** Within the best `top` share of the rung's results so far (0.25: top quarter; at least the best one). */
  top: z.number().gt(0).max(1).optional(),
  /** Its verdict against the rung's baseline is "better" beyond the noise floor. */
  beats_baseline: z.boolean().optional(),
  /** Its fitness on this rung is at least this. */
  min_fitness: z.number().optional(),
});
export type PromotionRule = z.infer<typeof PromotionRule>;

/** A training rung's rule when its campaign file gives none: the top quarter, beating the baseline beyond noise. */
export const DEFAULT_PROMOTION: PromotionRule = { top: 0.25, beats_baseline: true };

export const EarlyStopRule = z.strictObject({
  /** Stop when the (smoothed) loss exceeds the baseline's at the same step by more than this share of it. */
  margin: z.number().positive().default(0.1),
  /** No decision before this share of the run's steps. */
  warmup_fraction: z.number().min(0).max(1).default(0.25),
  /** Smooth the candidate's loss over its last `window` logged points. */
  window: z.number().int().positive().default(5),
});
export type EarlyStopRule = z.infer<typeof EarlyStopRule>;

/** Why a run was stopped early (src/ladder/policy.ts earlyStop): its loss against the baseline's at one step. */
export const EarlyStopEvidence = z.strictObject({
  step: z.number().int().nonnegative(),
  /** The run's held-out monitor loss (computed by the trusted evaluator), mean of its last `window` points. */
  loss: z.number(),
  /** The baseline's monitor loss at the same step (linear between its logged points). */
  baseline_loss: z.number(),
  margin: z.number(),
  /** Steps not run: total_steps − step. */
  steps_saved: z.number().int().nonnegative(),
});
export type EarlyStopEvidence = z.infer<typeof EarlyStopEvidence>;

/** A stopped_early run's record: the evidence, the rule it was judged by, and the compute it saved. */
export const EarlyStopRecord = EarlyStopEvidence.extend({
  total_steps: z.number().int().positive(),
  /** steps_saved × the run's measured seconds per step so far (start of training to the stop). */
  seconds_saved: z.number().nonnegative(),
  rule: z.strictObject({ margin: z.number(), warmup_fraction: z.number(), window: z.number().int() }),
});
export type EarlyStopRecord = z.infer<typeof EarlyStopRecord>;
