/**
 * The archive's records (DESIGN §6): small, JSON, zod-validated on every read. Long text (motivation,
 * analysis, experience, logs) and code live out of line; records hold their hashes and paths.
 */
import { z } from "zod";
import { Confirmation, ConfirmationVerdict, MetricVerdict } from "./confirmation.ts";
import { EarlyStopRecord } from "./ladder.ts";
import { RunStatus } from "./result.ts";

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
  status: RunStatus,
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
  /** Every run of the stage ran inside the sandbox (absent in records from before this was recorded). */
  sandboxed: z.boolean().optional(),
  runDir: z.string(),
  /** A stopped_early stage: the evidence and the compute saved (runs/<id>/<stage>/result.json has it too). */
  earlyStop: EarlyStopRecord.optional(),
});
export type StageSummary = z.infer<typeof StageSummary>;

export const Fitness = z.object({
  value: z.number(),
  /** Everything the formula read, so it can be recomputed with other weights later. */
  inputs: z.record(z.string(), z.number().nullable()),
  terms: z.record(z.string(), z.number()),
  formula: z.string(),
  /** Which formula (analyst/fitness.ts): "noise" or "asi-arch"; absent in records from before issue 13. */
  kind: z.string().optional(),
  /** k std of the value from the candidate's run-to-run noise; null when the stage had no noise floor. */
  band: z.number().nullable().optional(),
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

/** How an LLM proposal was made (issue 7): an edit of the parent's genome (code generated from it), or free-form
 *  code written by the engineer. */
export const ProposalMode = z.enum(["genome", "code"]);
export type ProposalMode = z.infer<typeof ProposalMode>;

/** One debugger repair after a failed stage: what failed, and the file it returned (kept in code/ by hash). */
export const RepairAttempt = z.object({
  attempt: z.number().int().positive(),
  /** The stage that failed: probe or proxy. */
  stage: z.string(),
  errorKind: z.string(),
  message: z.string(),
  /** The failed stage's run directory (its result file and log stay there). */
  runDir: z.string(),
  failedCodeHash: z.string(),
  /** The debugger's diagnosis; null when it gave no usable reply. */
  diagnosis: z.string().nullable(),
  /** The repaired file; null when the debugger gave none (the experiment then stops with the stage's error). */
  codeHash: z.string().nullable(),
  at: z.string(),
});
export type RepairAttempt = z.infer<typeof RepairAttempt>;

/** An LLM call that gave no usable reply; the loop went on without it (details in runs/<id>/agents.jsonl). */
export const AgentFailure = z.object({
  role: z.string(),
  /** invalid_reply, request_rejected, unavailable (src/llm/client.ts FailureKind). */
  kind: z.string(),
  message: z.string(),
  at: z.string(),
});
export type AgentFailure = z.infer<typeof AgentFailure>;

/** A Slurm job that ran (or runs) one of the experiment's stages; recorded before the runner waits on it. */
export const JobRecord = z.object({
  runner: z.literal("slurm"),
  jobId: z.string(),
  stage: z.string(),
  runDir: z.string(),
  submittedAt: z.string(),
  /** The last state seen (PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, ..., or UNKNOWN when it vanished). */
  state: z.string(),
  /** Why it ended that way or waits (Slurm's Reason, or archlab's when archlab cancelled it). */
  reason: z.string().nullable(),
  /** Times Slurm requeued it (preemption, or USR2 near the time limit). */
  restarts: z.number().int().nonnegative(),
  /** Times an orchestrator restarted after a crash found it in flight and waited for it instead of resubmitting. */
  reattached: z.number().int().nonnegative(),
  updatedAt: z.string(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** A candidate's result on one training rung of the ladder (issue 14); its metrics are in `stages[rung]`. */
export const RungResult = z.object({
  rung: z.string(),
  stage: z.string(),
  preset: z.string().nullable(),
  /** 0: the first training rung (every candidate), 1: the next, ... */
  level: z.number().int().nonnegative(),
  status: StageSummary.shape.status,
  /** The fitness against this rung's own baseline; null when the run did not finish. */
  fitness: Fitness.nullable(),
  /** Its noise-aware verdict against this rung's baseline. */
  verdict: MetricVerdict.nullable(),
  at: z.string(),
});
export type RungResult = z.infer<typeof RungResult>;

/** Whether a candidate climbed from one rung to the next, and every reason (src/ladder/policy.ts). */
export const PromotionDecision = z.object({
  from: z.string(),
  to: z.string(),
  promoted: z.boolean(),
  /** One line per condition of the rule, then the confirmation's line. */
  reasons: z.array(z.string()),
  /** The confirmation on fresh seeds run for this decision (null: none ran, the rule failed first). */
  confirmation: ConfirmationVerdict.nullable(),
  at: z.string(),
});
export type PromotionDecision = z.infer<typeof PromotionDecision>;

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
  // Written by the LLM agents (issue 7); absent in offline experiments and in archives from before them.
  /** The LLM researcher's proposal mode. */
  mode: ProposalMode.nullable().optional(),
  /** The debugger's repairs, in order; the experiment's codeHash/commit are the last repaired file's. */
  repairs: z.array(RepairAttempt).optional(),
  /** Ids the analyst cited ([e000042], [cg0012]) that name no experiment or cognition entry. */
  flaggedCitations: z.array(z.string()).optional(),
  /** LLM calls that failed; the experiment went on without them (e.g. rule-based analysis instead). */
  agentFailures: z.array(AgentFailure).optional(),
  /** Slurm jobs of its stages, in submission order (absent for local runs). */
  jobs: z.array(JobRecord).optional(),
  /** `archlab confirm` / the campaign's confirmation step, oldest first (issue 13). */
  confirmations: z.array(Confirmation).optional(),
  /** The ladder (issue 14; campaigns with more than one training rung): its result on each rung it reached. */
  rungs: z.array(RungResult).optional(),
  /** Every promotion decision, in rung order. */
  promotions: z.array(PromotionDecision).optional(),
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

/**
 * What the archive keeps in memory per experiment, without reading its body: enough to filter, rank and index,
 * and for the proposers' policies (parent sampling, gene effects, seed retry) to run on summaries alone.
 * Statuses and proposers are plain strings here: a summary is read defensively, the body is what is validated.
 */
export interface ExperimentSummary {
  id: string;
  name: string;
  parentId: string | null;
  campaign: string;
  proposer: string;
  status: string;
  /** The fitness value, null when there is none. */
  fitness: number | null;
  /** The fitness's noise band (Fitness.band), null when there is no fitness or no band. */
  fitnessBand: number | null;
  genome: Record<string, unknown> | null;
  genomeKey: string | null;
  /** What changed relative to the parent (Experiment.change). */
  change: Record<string, unknown> | null;
  /** The LLM researcher's proposal mode (Experiment.mode), null for other proposers. */
  mode: string | null;
  /** The probe stage's status (Experiment.stages.probe.status), null before it ran. */
  probe: string | null;
  fingerprint: string | null;
  createdAt: string;
  /** The ladder (issue 14): the highest training rung with a fitness (0: the first) and the fitness there;
   * absent outside a ladder (and in summaries from before it), read as rung 0 with `fitness`. */
  rung?: number;
  rungFitness?: number;
}

/** The highest rung with a fitness (level) and the fitness there; null when it has none on any rung. */
export function ladderStanding(rungs: readonly { level: number; fitness: { value: number } | null }[] | undefined): { level: number; fitness: number } | null {
  let best: { level: number; fitness: number } | null = null;
  for (const r of rungs ?? []) {
    const f = r.fitness?.value;
    if (typeof f === "number" && Number.isFinite(f) && (best === null || r.level > best.level)) best = { level: r.level, fitness: f };
  }
  return best;
}

/** The summary of a record (an Experiment, or a stored record read defensively: odd fields become null/""). */
export function summarizeExperiment(record: { readonly id: string; readonly [key: string]: unknown }): ExperimentSummary {
  const str = (value: unknown) => (typeof value === "string" ? value : "");
  const strOrNull = (value: unknown) => (typeof value === "string" ? value : null);
  const obj = (value: unknown) => (typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null);
  const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : null);
  const fitness = obj(record.fitness);
  const value = num(fitness?.value);
  return {
    id: record.id,
    name: str(record.name),
    parentId: strOrNull(record.parentId),
    campaign: str(record.campaign),
    proposer: str(record.proposer),
    status: str(record.status),
    fitness: value,
    fitnessBand: value === null ? null : num(fitness?.band),
    genome: obj(record.genome),
    genomeKey: strOrNull(record.genomeKey),
    change: obj(record.change),
    mode: strOrNull(record.mode),
    probe: strOrNull(obj(obj(record.stages)?.probe)?.status),
    fingerprint: strOrNull(record.fingerprint),
    createdAt: str(record.createdAt),
    ...standingOf(record.rungs),
  };
}

/** A record's ladder standing for its summary (read defensively, like the rest of the record). */
function standingOf(rungs: unknown): { rung?: number; rungFitness?: number } {
  if (!Array.isArray(rungs)) return {};
  const standing = ladderStanding(rungs.filter((r): r is RungResult => typeof (r as { level?: unknown } | null)?.level === "number"));
  return standing ? { rung: standing.level, rungFitness: standing.fitness } : {};
}
