/**
 * The result file (DESIGN §3): the one thing a harness run hands back. Defined once here; the Python side is
 * checked against the JSON Schema exported from it (`npm run schema` -> experiments/harness/result.schema.json).
 */
import { z } from "zod";
import { EarlyStopRecord } from "./ladder.ts";

export const RESULT_SCHEMA = "archlab.result/1";

/** stopped_early: the orchestrator stopped it, its held-out loss trailing the baseline's (not a failure). */
export const RunStatus = z.enum(["ok", "rejected", "failed", "timeout", "stopped_early"]);
export type RunStatus = z.infer<typeof RunStatus>;

/** What went wrong, as a kind an agent (the debugger) can act on. */
export const ErrorKind = z.enum([
  // loading and running the candidate
  "syntax", "import", "missing_class", "construct", "forward", "backward", "nonfinite",
  // probes
  "noncausal", "superlinear", "batch_dependent", "params",
  // resources and the run itself
  "timeout", "oom", "crash",
  // the scheduler ended it (scancel, pending too long, preempted without a requeue left)
  "cancelled",
]);
export type ErrorKind = z.infer<typeof ErrorKind>;

export const RunError = z.object({
  kind: ErrorKind,
  message: z.string(),
  tail: z.string(),
});

export const CurvePoint = z.object({
  step: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  loss: z.number().nullable(),
});

/** The held-out loss at a logged step, computed by the trusted evaluator from the candidate's outputs on a
 * fixed monitor slice (experiments/harness/evaluation.py monitor_items): what early stop compares. */
export const MonitorPoint = z.object({
  step: z.number().int().nonnegative(),
  loss: z.number(),
});
export type MonitorPoint = z.infer<typeof MonitorPoint>;

/** One probe's verdict plus whatever numbers it measured (exponent, max_leak, ...). */
export const ProbeResult = z.looseObject({ passed: z.boolean() });

export const RunResult = z.object({
  schema: z.literal(RESULT_SCHEMA),
  stage: z.string(),
  status: RunStatus,
  error: RunError.nullable(),
  probes: z.record(z.string(), ProbeResult).nullable(),
  fingerprint: z.string().nullable(),
  curve: z.array(CurvePoint),
  metrics: z.record(z.string(), z.number().nullable()),
  params: z.object({ total: z.number().int(), mixer: z.number().int() }).nullable(),
  tokens_per_s: z.number().nullable(),
  wall_s: z.number(),
  device_s: z.number().nullable(),
  env: z.looseObject({
    torch: z.string(),
    python: z.string(),
    device: z.string(),
    dtype: z.string(),
    seed: z.number().int(),
  }),
  /** Whether the candidate ran inside the sandbox (absent in results from before this was recorded). */
  sandboxed: z.boolean().nullable().optional(),
  /**
   * Every number above is computed or measured by the trusted evaluator (experiments/harness/evaluate.py),
   * outside the candidate's process, except these fields, copied from what the candidate process reported.
   */
  candidate_reported: z.array(z.string()).optional(),
  /** Held-out logits from the prefix alone against the full sequence, on positions the evaluator sampled. */
  eval_causality: ProbeResult.nullable().optional(),
  /** The evaluator's held-out loss at each logged step (absent in results from before it was recorded). */
  monitor: z.array(MonitorPoint).optional(),
  /** Set on a stopped_early result: why, and what it saved (src/runner/earlyStop.ts). */
  early_stop: EarlyStopRecord.nullable().optional(),
});
export type RunResult = z.infer<typeof RunResult>;

/** Progress lines the harness prints on stdout while it runs. */
export const ProgressEvent = z.discriminatedUnion("event", [
  z.looseObject({ event: z.literal("start"), stage: z.string() }),
  z.looseObject({
    event: z.literal("step"),
    step: z.number(),
    total_steps: z.number(),
    loss: z.number().nullable(),
  }),
  /** From the evaluator, not the candidate process: the held-out loss at a logged step (MonitorPoint). */
  z.looseObject({ event: z.literal("monitor"), step: z.number().int(), total_steps: z.number(), loss: z.number() }),
  /** From the orchestrator (src/runner/earlyStop.ts) when it stops the run: the EarlyStopRecord's fields. */
  z.looseObject({ event: z.literal("stopped_early"), step: z.number(), loss: z.number(), baseline_loss: z.number(), steps_saved: z.number() }),
  z.looseObject({ event: z.literal("eval") }),
  z.looseObject({ event: z.literal("probe"), probe: z.string(), state: z.enum(["start", "done"]) }),
  z.looseObject({ event: z.literal("done"), status: RunStatus }),
]);
export type ProgressEvent = z.infer<typeof ProgressEvent>;
