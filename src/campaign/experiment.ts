/**
 * One experiment, top to bottom (DESIGN §2): propose -> gate -> implement -> probe -> proxy -> analyse ->
 * record. Every transition is persisted before the next step starts, so a killed process loses nothing: the
 * next run resumes each unfinished experiment from its last safe point (resumeFrom).
 */
import fs from "node:fs";
import path from "node:path";
import type { AgentFailure, Costs, Experiment, ProposalMode, RepairAttempt, StageSummary } from "../contracts/experiment.ts";
import { TERMINAL_STATUSES, ZERO_COSTS } from "../contracts/experiment.ts";
import type { RunResult } from "../contracts/result.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { analyse, stageMetrics } from "../analyst/rules.ts";
import { computeFitness, fitnessInputs } from "../analyst/fitness.ts";
import { analyseWithLlm, analystInputs, judgeWithLlm, summariseWithLlm } from "../analyst/llmAnalyst.ts";
import { generateLayer } from "../engineer/codegen.ts";
import { implementWithLlm, repairWithLlm } from "../engineer/llmEngineer.ts";
import { GenomeSchema } from "../contracts/genome.ts";
import type { Archive } from "../archive/archive.ts";
import type { Gate } from "../gate/gate.ts";
import type { Agents } from "./agents.ts";
import type { CampaignConfig } from "./config.ts";
import { firstRung, probeRung, rungSpec, type Rung } from "./rungs.ts";
import { baselineDir, baselineKey, baselineSpecs, cachedBaseline, combineSeeds } from "./baseline.ts";
import { earlyStopOption, formatEarlyStop, type EarlyStopOption } from "../runner/earlyStop.ts";
import { failpoint } from "./failpoint.ts";

export interface ExperimentContext {
  archive: Archive;
  /** Rejects a probed candidate that behaves exactly like an archived one. */
  gate: Gate;
  config: CampaignConfig;
  campaignId: string;
  /** Runs one harness spec of a rung (default: the spec's stage) in this experiment's slot; resolves with its
   * result (aborted runs included). */
  evaluate: (spec: RunSpec, runDir: string, rung?: string, earlyStop?: EarlyStopOption) => Promise<{ result: RunResult; processS: number }>;
  baselineMetrics: () => Promise<Record<string, number> | null>;
  signal: AbortSignal;
  /** The slot's torch device for the run specs: "cpu", or "cuda" (the slot's GPU, the only one the child sees). */
  device: string;
  onStage: (id: string, stage: string) => void;
  /** The LLM agents (engineer for code-mode plans, debugger, analyst, summariser, judge); null offline. */
  agents: Agents | null;
}

const now = () => new Date().toISOString();

/** Stops the experiment without recording anything: it stays unfinished and resumes on the next run. */
export class Interrupted extends Error {}

/** A proposal as recorded: the offline proposer's (researcher/propose.ts) or an LLM plan. */
export interface ProposalRecord {
  /** Pre-allocated when agents logged calls under it before the record existed; else a new id. */
  id?: string;
  name: string;
  parentId: string | null;
  referenceIds: readonly string[];
  proposer: Experiment["proposer"];
  genome: object | null;
  genomeKey: string | null;
  change: object | null;
  motivation: string;
  mode?: ProposalMode | null;
  /** More texts to keep (design, novelty verdict, ...), by kind. */
  texts?: Readonly<Record<string, string>>;
  /** LLM costs metered before the record existed (the researcher's calls). */
  costs?: Costs;
  agentFailures?: readonly AgentFailure[];
  /** Note on the "proposed" transition. */
  note?: string;
  /** Rejected at the gate, before any compute (e.g. judged a repeat): the reason. */
  rejected?: string;
}

export async function recordProposal(archive: Archive, campaignId: string, proposal: ProposalRecord): Promise<Experiment> {
  const id = proposal.id ?? await archive.newId();
  const at = now();
  const proposed = proposal.note ? { status: "proposed" as const, at, note: proposal.note } : { status: "proposed" as const, at };
  // A proposal rejected at the gate is written rejected in one step: a crash cannot leave it to be implemented.
  const exp: Experiment = {
    id, name: proposal.name, parentId: proposal.parentId, campaign: campaignId, proposer: proposal.proposer,
    status: proposal.rejected ? "rejected" : "proposed",
    transitions: proposal.rejected ? [proposed, { status: "rejected", at, note: "gate" }] : [proposed],
    genome: proposal.genome as Record<string, unknown> | null, genomeKey: proposal.genomeKey, change: proposal.change as Record<string, unknown> | null,
    codeHash: null, commit: null, fingerprint: null, stages: {}, fitness: null, costs: proposal.costs ?? { ...ZERO_COSTS },
    reason: proposal.rejected ?? null, createdAt: at, updatedAt: at,
    ...(proposal.mode && { mode: proposal.mode }),
    ...(proposal.agentFailures?.length && { agentFailures: [...proposal.agentFailures] }),
  };
  await archive.insertExperiment(exp);
  await archive.writeText(id, "motivation", proposal.motivation);
  if (proposal.referenceIds.length) await archive.writeText(id, "references", proposal.referenceIds.join("\n"));
  for (const [kind, text] of Object.entries(proposal.texts ?? {})) await archive.writeText(id, kind, text);
  if (proposal.rejected) {
    const { analysis, experience } = analyse(exp, proposal.parentId ? archive.getExperiment(proposal.parentId) ?? null : null, [], null);
    await archive.writeText(id, "analysis", analysis);
    await archive.writeText(id, "experience", experience);
  }
  await failpoint("proposed");
  return exp;
}

/** Runs (or resumes) one experiment to a terminal status. Throws Interrupted when the campaign is stopping. */
export async function runExperiment(ctx: ExperimentContext, start: Experiment): Promise<Experiment> {
  const { archive } = ctx;
  let exp = start;
  if (TERMINAL_STATUSES.includes(exp.status)) return exp; // rejected at the gate when it was proposed
  if (ctx.signal.aborted) throw new Interrupted(); // stopping: nothing new starts, not even the implementation
  if (!exp.codeHash || !exp.commit) {
    exp = await implement(ctx, exp);
    if (TERMINAL_STATUSES.includes(exp.status)) return exp;
  }

  // Probe, then train; a failure goes to the debugger (code-mode LLM candidates), whose fix starts over here.
  // Stopped while analysing (the baseline training, an LLM call): its stages are recorded, so it resumes there.
  const first = firstRung(ctx.config);
  const trained = exp.status === "analysing" && exp.stages[first.name]?.status === "ok";
  while (!trained) {
    exp = await transition(ctx, exp, "probing");
    const probe = await runRung(ctx, exp, probeRung(ctx.config));
    exp = await archive.updateExperiment(exp.id, { stages: { ...exp.stages, probe: probe.summary }, fingerprint: probe.summary.fingerprint, costs: addCompute(archive, exp, probe.results) });
    if (probe.summary.status !== "ok") {
      const repaired = await repair(ctx, exp, "probe", probe);
      if (repaired) { exp = repaired; continue; }
      return finish(ctx, exp, "rejected", stageReason(probe.summary));
    }
    const repeat = ctx.gate.behaviour(exp, probe.summary.fingerprint);
    if (repeat) return finish(ctx, exp, "rejected", repeat);

    exp = await transition(ctx, exp, "training");
    const trainedRun = await runRung(ctx, exp, first);
    exp = await archive.updateExperiment(exp.id, { stages: { ...exp.stages, [first.name]: trainedRun.summary }, costs: addCompute(archive, exp, trainedRun.results) });
    const stopped = trainedRun.summary.earlyStop;
    if (trainedRun.summary.status === "stopped_early" && stopped) {
      // Not a bug to repair: it trains, worse than the baseline at the same step by more than the rule's margin.
      return finish(ctx, exp, "rejected", formatEarlyStop(stopped));
    }
    if (trainedRun.summary.status !== "ok") {
      const repaired = await repair(ctx, exp, first.name, trainedRun);
      if (repaired) { exp = repaired; continue; }
      return finish(ctx, exp, "failed", stageReason(trainedRun.summary));
    }
    break;
  }

  if (trained) ctx.onStage(exp.id, "analysing");
  else exp = await transition(ctx, exp, "analysing");
  const baseline = await ctx.baselineMetrics();
  if (ctx.signal.aborted) throw new Interrupted();
  const metrics = stageMetrics(exp.stages[first.name]!);
  const judge = ctx.agents ? await judgeExperiment(ctx, ctx.agents, exp, baseline) : null;
  const fitness = computeFitness(fitnessInputs(metrics, baseline, judge, first.seeds), ctx.config.fitness);
  exp = await archive.updateExperiment(exp.id, { fitness });
  return finish(ctx, exp, "done", null, baseline);
}

async function implement(ctx: ExperimentContext, exp: Experiment): Promise<Experiment> {
  const { archive } = ctx;
  ctx.onStage(exp.id, "implement");
  const motivation = (await archive.readText(exp.id, "motivation")) ?? "";
  const parent = exp.parentId ? archive.getExperiment(exp.parentId) : undefined;
  let code: string;
  if (exp.mode === "code") {
    // A free-form plan: the LLM engineer writes the file from the design, starting from the parent's code.
    if (!ctx.agents) return finish(ctx, exp, "failed", "a code-mode proposal needs the LLM engineer, and this campaign has no llm section");
    const out = await implementWithLlm(ctx.agents.client, {
      name: exp.name, motivation, design: (await archive.readText(exp.id, "design")) ?? motivation,
      parentCode: parent?.codeHash ? await archive.readCode(parent.codeHash).catch(() => null) : null,
    }, callContext(ctx, ctx.agents, exp.id));
    if (!out.ok) {
      exp = await noteFailure(ctx, exp.id, "engineer", out);
      return finish(ctx, exp, "failed", `engineer: ${out.message}`);
    }
    code = out.value.code;
    if (out.value.notes.trim()) await archive.writeText(exp.id, "engineer", out.value.notes);
  } else {
    code = generateLayer(GenomeSchema.parse(exp.genome), motivation);
  }
  // commitCandidate stores the code and records its hash and commit on the experiment.
  await archive.commitCandidate(exp.id, code, `${exp.name} (${exp.id})\n\n${motivation}`, parent?.commit ?? null);
  const next = await archive.updateExperiment(exp.id, { status: "implemented" });
  await failpoint("implemented");
  return next;
}

/**
 * The debugger's turn after a failed stage: code-mode LLM candidates only (a genome's code is generated, and a
 * fix would no longer match its genome), at most agents.debug_attempts per experiment. The fixed file is
 * stored and committed on top of the failed one, the attempt recorded on the experiment and as a text; the
 * experiment goes back to "implemented" and is probed again. Null: no repair (the stage's failure stands).
 */
async function repair(ctx: ExperimentContext, exp: Experiment, stage: string, run: { summary: StageSummary; results: RunResult[] }): Promise<Experiment | null> {
  const { archive, agents } = ctx;
  const done = exp.repairs ?? [];
  if (!agents || exp.mode !== "code" || done.length >= agents.config.debug_attempts || ctx.signal.aborted) return null;
  ctx.onStage(exp.id, "debugging");
  const n = done.length + 1;
  const failedCodeHash = exp.codeHash!;
  const code = await archive.readCode(failedCodeHash);
  const last = run.results[run.results.length - 1];
  const out = await repairWithLlm(agents.client, {
    name: exp.name, motivation: (await archive.readText(exp.id, "motivation")) ?? "", stage, summary: run.summary,
    logTail: last?.error?.tail || logTail(run.summary.runDir), code, previous: done,
  }, callContext(ctx, agents, exp.id));
  const attempt: RepairAttempt = {
    attempt: n, stage, errorKind: run.summary.errorKind ?? run.summary.status, message: run.summary.message ?? "",
    runDir: run.summary.runDir, failedCodeHash, diagnosis: out.ok ? out.value.diagnosis : null, codeHash: null, at: now(),
  };
  if (!out.ok) {
    await noteFailure(ctx, exp.id, "debugger", out);
    await archive.updateExperiment(exp.id, { repairs: [...done, attempt] });
    return null;
  }
  attempt.codeHash = await archive.putCode(out.value.code);
  await archive.writeText(exp.id, `repair-${n}`, [
    `# Repair ${n} after the ${stage} stage failed`, "",
    `**Error:** ${attempt.errorKind}: ${attempt.message}`, "", `**Diagnosis:** ${attempt.diagnosis}`, "",
    `Failed code: ${failedCodeHash} · repaired code: ${attempt.codeHash}${attempt.codeHash === failedCodeHash ? " (unchanged: repair abandoned)" : ""}`,
  ].join("\n"));
  if (attempt.codeHash === failedCodeHash) {
    await archive.updateExperiment(exp.id, { repairs: [...done, attempt] });
    return null;
  }
  await archive.commitCandidate(exp.id, out.value.code, `${exp.name} (${exp.id}): repair ${n} after ${stage} ${attempt.errorKind}\n\n${attempt.diagnosis}`, exp.commit);
  return archive.updateExperiment(exp.id, {
    repairs: [...done, attempt], stages: {}, fingerprint: null, status: "implemented",
  }, { note: `repair ${n}: ${attempt.errorKind}` });
}

/** The judge's score for the fitness's judge term; null (term left out, rest rescaled) when the call fails. */
async function judgeExperiment(ctx: ExperimentContext, agents: Agents, exp: Experiment, baseline: Record<string, number> | null): Promise<number | null> {
  const { archive } = ctx;
  const parent = exp.parentId ? archive.getExperiment(exp.parentId) ?? null : null;
  const inputs = await analystInputs(archive, agents.cognition, exp, parent, siblingsOf(archive, exp), baseline, agents.config.context.cognition);
  const out = await judgeWithLlm(agents.client, inputs, callContext(ctx, agents, exp.id));
  if (!out.ok) {
    await noteFailure(ctx, exp.id, "judge", out);
    return null;
  }
  const r = out.value.reply;
  await archive.writeText(exp.id, "judge", `performance ${r.performance} · innovation ${r.innovation} · complexity ${r.complexity} → judge score ${out.value.score.toFixed(4)}\n\n${r.rationale}`);
  return out.value.score;
}

async function transition(ctx: ExperimentContext, exp: Experiment, status: Experiment["status"]): Promise<Experiment> {
  if (ctx.signal.aborted) throw new Interrupted();
  ctx.onStage(exp.id, status);
  return ctx.archive.updateExperiment(exp.id, { status });
}

/**
 * Runs a rung (one run per seed; the probe once) in runs/<id>/<rung name>/ and summarises it. A run killed
 * mid-way resumes there: an LM rung from its checkpoint.
 */
export async function runRung(ctx: Pick<ExperimentContext, "archive" | "config" | "device" | "evaluate" | "signal">, exp: Experiment, rung: Rung) {
  const { config, archive } = ctx;
  const stage = rung.name;
  const seeds = rung.stage === "probe" ? 1 : rung.seeds;
  const results: RunResult[] = [];
  let processS = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const runDir = path.join(archive.runDir(exp.id, stageDir(exp, stage)), seeds > 1 ? `seed${seed}` : "");
    const spec = rungSpec(config, rung, { layerPath: archive.codePath(exp.codeHash!), className: "DeltaNet", runDir, seed: config.seed + seed, device: ctx.device });
    if (rung.stage === "probe") await failpoint("probing");
    const { result, processS: seconds } = await ctx.evaluate(spec, runDir, rung.name, earlyStopFor(ctx, rung, config.seed + seed));
    processS += seconds;
    if (ctx.signal.aborted) throw new Interrupted();
    results.push(result);
    if (result.status !== "ok") break;
  }
  const last = results[results.length - 1]!;
  const summary: StageSummary = {
    status: last.status,
    errorKind: last.error?.kind ?? null,
    message: last.error?.message ?? null,
    metrics: last.status === "ok" ? combineSeeds(results) : last.metrics,
    probes: last.probes,
    fingerprint: last.fingerprint,
    params: last.params?.mixer ?? null,
    wallS: results.reduce((s, r) => s + r.wall_s, 0),
    deviceS: results.reduce((s, r) => s + (r.device_s ?? 0), 0),
    processS,
    sandboxed: results.every((r) => r.sandboxed === true),
    runDir: archive.runDir(exp.id, stageDir(exp, stage)),
    ...(last.early_stop ? { earlyStop: last.early_stop } : {}),
  };
  return { summary, results };
}

/**
 * The early-stop option for a run of `rung` on `seed`: the rung's rule and the cached baseline's monitor curve on
 * the same spec and seed (src/runner/earlyStop.ts). Undefined when the rung has no rule, or no baseline is cached
 * yet (the first candidates of a campaign train before the baseline; they are never stopped early).
 */
export function earlyStopFor(ctx: Pick<ExperimentContext, "archive" | "config" | "device">, rung: Rung, seed: number): EarlyStopOption | undefined {
  if (rung.stage === "probe" || !rung.early_stop) return undefined;
  const [spec] = baselineSpecs(ctx.archive.dir, ctx.config, [seed], ctx.device, rung);
  const hit = cachedBaseline(baselineDir(ctx.archive.dir), baselineKey([spec!]));
  return hit?.results[0]?.monitor?.length ? earlyStopOption(rung.early_stop, hit.results[0]) : undefined;
}

/** A stage's run directory: "probe", then "probe-r1" after the first repair, so every attempt's files stay. */
function stageDir(exp: Experiment, stage: string): string {
  return exp.repairs?.length ? `${stage}-r${exp.repairs.length}` : stage;
}

/** The last lines of a run's harness log (what the debugger reads when the result has no error tail). */
function logTail(runDir: string, lines = 40): string {
  try {
    return fs.readFileSync(path.join(runDir, "harness.log"), "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function siblingsOf(archive: Archive, exp: Experiment): Experiment[] {
  return exp.parentId ? archive.children(exp.parentId).filter((e) => e.id !== exp.id && e.status === "done") : [];
}

function callContext(ctx: ExperimentContext, agents: Agents, id: string) {
  return { experimentId: id, logFile: agents.logFile(id), signal: ctx.signal };
}

/** Records an LLM call that gave no usable reply; the experiment goes on without it. */
async function noteFailure(ctx: ExperimentContext, id: string, role: string, out: { kind: string; message: string }): Promise<Experiment> {
  const fresh = ctx.archive.getExperiment(id)!;
  return ctx.archive.updateExperiment(id, { agentFailures: [...(fresh.agentFailures ?? []), { role, kind: out.kind, message: out.message, at: now() }] });
}

function stageReason(s: StageSummary): string {
  return `${s.errorKind ?? s.status}: ${s.message ?? "no message"}`;
}

/** The experiment's costs plus these runs' seconds; read fresh, since LLM calls add to the costs meanwhile. */
function addCompute(archive: Archive, exp: Experiment, results: readonly RunResult[]) {
  const costs = archive.getExperiment(exp.id)!.costs;
  const seconds = results.reduce((s, r) => s + r.wall_s, 0);
  const onGpu = results.some((r) => r.env.device !== "cpu");
  return {
    ...costs,
    cpuSeconds: costs.cpuSeconds + (onGpu ? 0 : seconds),
    gpuSeconds: costs.gpuSeconds + (onGpu ? seconds : 0),
  };
}

/**
 * Analyses and records the outcome. Offline, and for rejected or failed experiments, the rule-based analyst
 * writes the analysis and experience. With agents, a finished experiment gets the LLM analyst's five parts
 * (its citations checked; the rule-based comparison kept as "comparison") and the summariser's experience note;
 * a failed call falls back to the rule-based text.
 */
async function finish(ctx: ExperimentContext, exp: Experiment, status: "done" | "rejected" | "failed", reason: string | null, baseline?: Record<string, number> | null): Promise<Experiment> {
  const { archive, agents } = ctx;
  const parent = exp.parentId ? archive.getExperiment(exp.parentId) ?? null : null;
  const siblings = siblingsOf(archive, exp);
  const recorded = { ...exp, status, reason };
  let { analysis, experience } = analyse(recorded, parent, siblings, baseline ?? null);
  let flagged: string[] | undefined;
  if (agents && status === "done") {
    const call = callContext(ctx, agents, exp.id);
    const inputs = await analystInputs(archive, agents.cognition, recorded, parent, siblings, baseline ?? null, agents.config.context.cognition);
    const known = (id: string) => archive.getExperiment(id) !== undefined || agents.cognition.has(id);
    const out = await analyseWithLlm(agents.client, inputs, known, call);
    if (out.ok) {
      await archive.writeText(exp.id, "comparison", analysis);
      analysis = out.value.analysis;
      flagged = out.value.flagged;
      const summary = await summariseWithLlm(agents.client, inputs.experiment, analysis, call);
      if (summary.ok) experience = summary.value;
      else {
        await noteFailure(ctx, exp.id, "summariser", summary);
        experience = out.value.synthesis;
      }
    } else {
      await noteFailure(ctx, exp.id, "analyst", out);
    }
  }
  await archive.writeText(exp.id, "analysis", analysis);
  await archive.writeText(exp.id, "experience", experience);
  await failpoint("recording");
  return archive.updateExperiment(exp.id, { status, reason, ...(flagged !== undefined && { flaggedCitations: flagged }) });
}
