/**
 * The archive's records (DESIGN §6): small, JSON, zod-validated on every read. Long text (motivation,
 * analysis, experience, logs) and code live out of line; records hold their hashes and paths.
 */
import { z } from "zod";

export const ARCHIVE_SCHEMA = "archlab.archive/1";

/** Where an experiment is in the loop. Terminal: done, rejected, failed. */
export const ExperimentStatus = z.enum([
  "proposed", "implemented", "probing", "training", "analysing", "done", "rejected", "failed",
]);
export type ExperimentStatus = z.infer<typeof ExperimentStatus>;
export const TERMINAL_STATUSES: readonly ExperimentStatus[] = ["done", "rejected", "failed"];

export const Transition = z.object({ status: ExperimentStatus, at: z.string(), note: z.string().optional() });

/** One ladder stage's outcome, summarised from its result file (kept in runs/<id>/<stage>/result.json). */
export const StageSummary = z.object({
  status: z.enum(["ok", "rejected", "failed", "timeout"]),
  errorKind: z.string().nullable(),
  message: z.string().nullable(),
  metrics: z.record(z.string(), z.number().nullable()),
  probes: z.record(z.string(), z.looseObject({ passed: z.boolean() })).nullable(),
  fingerprint: z.string().nullable(),
  params: z.number().int().nullable(),
  wallS: z.number(),
  deviceS: z.number().nullable(),
  /** Seconds the harness child processes took, spawn to exit: the rest of an experiment is orchestration. */
  processS: z.number(),
  runDir: z.string(),
});
export type StageSummary = z.infer<typeof StageSummary>;

export const Fitness = z.object({
  value: z.number(),
  /** Everything the formula read, so it can be recomputed with other weights later. */
  inputs: z.record(z.string(), z.number().nullable()),
  terms: z.record(z.string(), z.number()),
  formula: z.string(),
});
export type Fitness = z.infer<typeof Fitness>;

export const Costs = z.object({
  cpuSeconds: z.number(),
  gpuSeconds: z.number(),
  llmTokensIn: z.number().int(),
  llmTokensOut: z.number().int(),
  llmDollars: z.number(),
});
export type Costs = z.infer<typeof Costs>;
export const ZERO_COSTS: Costs = { cpuSeconds: 0, gpuSeconds: 0, llmTokensIn: 0, llmTokensOut: 0, llmDollars: 0 };

export const Experiment = z.object({
  id: z.string(),
  name: z.string(),
  parentId: z.string().nullable(),
  campaign: z.string(),
  /** Who proposed it: a seed baseline, the offline mutation proposer, random search, or an LLM. */
  proposer: z.enum(["seed", "mutation", "crossover", "random", "llm", "import"]),
  status: ExperimentStatus,
  transitions: z.array(Transition),
  /** The design-space genome when there is one (offline proposer, genome-mode LLM); null for free code. */
  genome: z.record(z.string(), z.unknown()).nullable(),
  genomeKey: z.string().nullable(),
  /** What changed relative to the parent, e.g. {gene: "feature_map", from: "elu1", to: "silu"}. */
  change: z.record(z.string(), z.unknown()).nullable(),
  codeHash: z.string().nullable(),
  commit: z.string().nullable(),
  fingerprint: z.string().nullable(),
  stages: z.record(z.string(), StageSummary),
  fitness: Fitness.nullable(),
  costs: Costs,
  /** Why it stopped, for rejected and failed experiments. */
  reason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Experiment = z.infer<typeof Experiment>;

export const Campaign = z.object({
  id: z.string(),
  name: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** The validated campaign config, frozen as it was when the campaign started. */
  config: z.record(z.string(), z.unknown()),
  stopReason: z.string().nullable(),
});
export type Campaign = z.infer<typeof Campaign>;

/** One metered cost event: an LLM call or a run's compute. */
export const LedgerEntry = z.object({
  id: z.string(),
  at: z.string(),
  campaign: z.string(),
  experimentId: z.string().nullable(),
  kind: z.enum(["llm", "compute"]),
  role: z.string().nullable(),
  tokensIn: z.number().int(),
  tokensOut: z.number().int(),
  dollars: z.number(),
  seconds: z.number(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** A human's note or pin on an experiment; the researcher reads them. */
export const Note = z.object({
  id: z.string(),
  experimentId: z.string(),
  at: z.string(),
  text: z.string(),
  pinned: z.boolean(),
});
export type Note = z.infer<typeof Note>;
