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

export const EarlyStopRule = z.strictObject({
  /** Stop when the (smoothed) loss exceeds the baseline's at the same step by more than this share of it. */
  margin: z.number().positive().default(0.1),
  /** No decision before this share of the run's steps. */
  warmup_fraction: z.number().min(0).max(1).default(0.25),
  /** Smooth the candidate's loss over its last `window` logged points. */
  window: z.number().int().positive().default(5),
});
export type EarlyStopRule = z.infer<typeof EarlyStopRule>;
