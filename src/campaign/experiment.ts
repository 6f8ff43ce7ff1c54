/**
 * One experiment, top to bottom (DESIGN §2): propose -> gate -> implement -> probe -> proxy -> analyse ->
 * record. Every transition is persisted before the next step starts, so a killed process loses nothing: the
 * next run resumes each unfinished experiment from its last safe point (resumeFrom).
 */
import path from "node:path";
import type { Experiment, StageSummary } from "../contracts/experiment.ts";
import { ZERO_COSTS } from "../contracts/experiment.ts";
import type { RunResult } from "../contracts/result.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { analyse, finalMetrics } from "../analyst/rules.ts";
import { computeFitness } from "../analyst/fitness.ts";
import { generateLayer } from "../engineer/codegen.ts";
import { GenomeSchema } from "../researcher/genome.ts";
import type { Proposal } from "../researcher/propose.ts";
import type { Archive } from "../archive/archive.ts";
import { stageSpec } from "../runner/stages.ts";
import type { CampaignConfig } from "./config.ts";
import { combineSeeds } from "./baseline.ts";
import { failpoint } from "./failpoint.ts";

export interface ExperimentContext {
  archive: Archive;
  config: CampaignConfig;
  campaignId: string;
  /** Runs one harness spec in this experiment's slot; resolves with its result (aborted runs included). */
  evaluate: (spec: RunSpec, runDir: string) => Promise<{ result: RunResult; processS: number }>;
  baselineMetrics: () => Promise<Record<string, number> | null>;
  signal: AbortSignal;
  onStage: (id: string, stage: string) => void;
}

const now = () => new Date().toISOString();

/** Stops the experiment without recording anything: it stays unfinished and resumes on the next run. */
export class Interrupted extends Error {}

export async function recordProposal(archive: Archive, campaignId: string, proposal: Proposal): Promise<Experiment> {
  const id = await archive.newId();
  const at = now();
  const exp: Experiment = {
    id, name: proposal.name, parentId: proposal.parentId, campaign: campaignId, proposer: proposal.proposer,
    status: "proposed", transitions: [{ status: "proposed", at }],
    genome: proposal.genome, genomeKey: proposal.genomeKey, change: proposal.change as Record<string, unknown> | null,
    codeHash: null, commit: null, fingerprint: null, stages: {}, fitness: null, costs: { ...ZERO_COSTS },
    reason: null, createdAt: at, updatedAt: at,
  };
  await archive.insertExperiment(exp);
  await archive.writeText(id, "motivation", proposal.motivation);
  if (proposal.referenceIds.length) await archive.writeText(id, "references", proposal.referenceIds.join("\n"));
  failpoint("proposed");
  return exp;
}

/** Runs (or resumes) one experiment to a terminal status. Throws Interrupted when the campaign is stopping. */
export async function runExperiment(ctx: ExperimentContext, start: Experiment): Promise<Experiment> {
  const { archive } = ctx;
  let exp = start;
  if (!exp.codeHash || !exp.commit) exp = await implement(ctx, exp);

  exp = await transition(ctx, exp, "probing");
  const probe = await runStage(ctx, exp, "probe");
  exp = await archive.updateExperiment(exp.id, { stages: { ...exp.stages, probe: probe.summary }, fingerprint: probe.summary.fingerprint, costs: addCompute(exp, probe.results) });
  if (probe.summary.status !== "ok") return finish(ctx, exp, "rejected", stageReason(probe.summary));
  const twin = probe.summary.fingerprint ? archive.findByFingerprint(probe.summary.fingerprint).find((e) => e.id !== exp.id) : undefined;
  if (twin) return finish(ctx, exp, "rejected", `duplicate: behaves exactly like ${twin.id} (${twin.name}), fingerprint ${probe.summary.fingerprint}`);

  exp = await transition(ctx, exp, "training");
  const proxy = await runStage(ctx, exp, "proxy");
  exp = await archive.updateExperiment(exp.id, { stages: { ...exp.stages, proxy: proxy.summary }, costs: addCompute(exp, proxy.results) });
  if (proxy.summary.status !== "ok") return finish(ctx, exp, "failed", stageReason(proxy.summary));

  exp = await transition(ctx, exp, "analysing");
  const baseline = await ctx.baselineMetrics();
  const metrics = finalMetrics(exp);
  const fitness = computeFitness({
    loss: metrics.eval_loss ?? null, baselineLoss: baseline?.eval_loss ?? null,
    benchmark: metrics.score ?? null, baselineBenchmark: baseline?.score ?? null, judge: null,
  }, ctx.config.fitness);
  exp = await archive.updateExperiment(exp.id, { fitness });
  return finish(ctx, exp, "done", null, baseline);
}

async function implement(ctx: ExperimentContext, exp: Experiment): Promise<Experiment> {
  const { archive } = ctx;
  ctx.onStage(exp.id, "implement");
  const motivation = (await archive.readText(exp.id, "motivation")) ?? "";
  const code = generateLayer(GenomeSchema.parse(exp.genome), motivation);
  const codeHash = await archive.putCode(code);
  const parent = exp.parentId ? archive.getExperiment(exp.parentId) : undefined;
  const commit = await archive.commitCandidate(exp.id, code, `${exp.name} (${exp.id})\n\n${motivation}`, parent?.commit ?? null);
  const next = await archive.updateExperiment(exp.id, { codeHash, commit, status: "implemented" });
  failpoint("implemented");
  return next;
}

async function transition(ctx: ExperimentContext, exp: Experiment, status: Experiment["status"]): Promise<Experiment> {
  if (ctx.signal.aborted) throw new Interrupted();
  ctx.onStage(exp.id, status);
  return ctx.archive.updateExperiment(exp.id, { status });
}

/** Runs a ladder stage (one run per seed for the proxy) and summarises it. */
async function runStage(ctx: ExperimentContext, exp: Experiment, stage: "probe" | "proxy") {
  const { config, archive } = ctx;
  const seeds = stage === "proxy" ? config.stages.proxy.seeds : 1;
  const results: RunResult[] = [];
  let processS = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const runDir = path.join(archive.runDir(exp.id, stage), seeds > 1 ? `seed${seed}` : "");
    const spec = stageSpec({
      stage, layerPath: archive.codePath(exp.codeHash!), className: "DeltaNet", runDir, seed: config.seed + seed,
      memoryMb: config.memory_mb, proxy: config.stages.proxy, probe: config.stages.probe,
    });
    const { result, processS: seconds } = await ctx.evaluate(spec, runDir);
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
    runDir: archive.runDir(exp.id, stage),
  };
  return { summary, results };
}

function stageReason(s: StageSummary): string {
  return `${s.errorKind ?? s.status}: ${s.message ?? "no message"}`;
}

function addCompute(exp: Experiment, results: readonly RunResult[]) {
  const seconds = results.reduce((s, r) => s + r.wall_s, 0);
  const onGpu = results.some((r) => r.env.device !== "cpu");
  return {
    ...exp.costs,
    cpuSeconds: exp.costs.cpuSeconds + (onGpu ? 0 : seconds),
    gpuSeconds: exp.costs.gpuSeconds + (onGpu ? seconds : 0),
  };
}

async function finish(ctx: ExperimentContext, exp: Experiment, status: "done" | "rejected" | "failed", reason: string | null, baseline?: Record<string, number> | null): Promise<Experiment> {
  const { archive } = ctx;
  const parent = exp.parentId ? archive.getExperiment(exp.parentId) ?? null : null;
  const siblings = exp.parentId ? archive.children(exp.parentId).filter((e) => e.id !== exp.id && e.status === "done") : [];
  const recorded = { ...exp, status, reason };
  const { analysis, experience } = analyse(recorded, parent, siblings, baseline ?? null);
  await archive.writeText(exp.id, "analysis", analysis);
  await archive.writeText(exp.id, "experience", experience);
  failpoint("recording");
  return archive.updateExperiment(exp.id, { status, reason });
}
