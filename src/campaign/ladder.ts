/**
 * The ladder in a campaign (DESIGN §4, issue 14): after a candidate's first training rung, each promotion is
 * decided with promote() against that rung's results so far and its verdict against the rung's own baseline;
 * when the rule passes, the candidate is confirmed on fresh seeds (campaign/confirm.ts), and climbs when the
 * rule and (under beats_baseline) the confirmation pass. Climbing trains the next rung in runs/<id>/<rung>/;
 * every step is recorded before the next, so an interrupted climb resumes on the next `archlab run`.
 */
import path from "node:path";
import { computeFitness, fitnessInputs, versusBaseline } from "../analyst/fitness.ts";
import { stageMetrics } from "../analyst/rules.ts";
import type { Archive } from "../archive/archive.ts";
import type { Confirmation } from "../contracts/confirmation.ts";
import type { Experiment, PromotionDecision, RungResult, StageSummary } from "../contracts/experiment.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import type { RunResult } from "../contracts/result.ts";
import { promote, withConfirmation } from "../ladder/policy.ts";
import { nextClimbStep, rungEntries } from "../ladder/standing.ts";
import { baselineKey, baselineRuns, baselineSpecs, combineSeeds, deviceOf, storeNoiseFloor } from "./baseline.ts";
import type { CampaignConfig } from "./config.ts";
import { confirmExperiment } from "./confirm.ts";
import { Interrupted, runRung } from "./experiment.ts";
import { failpoint } from "./failpoint.ts";
import type { StageRunners } from "./jobs.ts";
import { firstRung, trainingRungs, type TrainingRung } from "./rungs.ts";

export type LadderEvent =
  | { type: "baseline"; rung: string; cached: boolean; metrics: Record<string, number> }
  | { type: "confirming"; ids: string[]; seeds: number; runs: number; estimateS: number }
  | { type: "confirmed"; id: string; confirmation: Confirmation }
  | { type: "promotion"; id: string; name: string; decision: PromotionDecision }
  | { type: "rung"; id: string; name: string; result: RungResult };

/** The baseline's training failed (not stopped): no fitness can be computed on its rung, so the campaign stops. */
export class BaselineFailed extends Error {}

export type RungBaselines = (rung: TrainingRung) => Promise<Record<string, number> | null>;

/** Each rung's baseline metrics (mean over its seeds), from the cache or trained once now, its noise floor stored. */
export function rungBaselines(archive: Archive, config: CampaignConfig, runners: StageRunners, gpu: string | undefined, signal: AbortSignal, emit: (e: LadderEvent) => void): RungBaselines {
  const memo = new Map<string, Promise<Record<string, number> | null>>();
  const train = async (rung: TrainingRung) => {
    const specs = baselineSpecs(archive.dir, config, undefined, deviceOf(gpu), rung);
    const runs = await baselineRuns(path.join(archive.dir, "baselines"), config.baseline.path, specs,
      (spec) => runners(rung.name).run(spec, {
        runDir: path.dirname(spec.result_path), signal, gpu, sandbox: config.sandbox,
        onProgress: (event) => { if (event.event === "step") void failpoint("baseline"); },
      }).then((run) => run.result));
    if (signal.aborted) throw new Interrupted();
    if (!runs.ok) {
      const err = runs.result.error;
      const runDir = path.dirname(specs[runs.index]!.result_path);
      throw new BaselineFailed(`the baseline ${config.baseline.path} failed to train on the ${rung.name} rung (${err?.kind ?? runs.result.status}: ${err?.message || "no message"}); see ${runDir}`);
    }
    storeNoiseFloor(path.join(archive.dir, "baselines"), baselineKey(specs), runs.results);
    const metrics = combineSeeds(runs.results);
    emit({ type: "baseline", rung: rung.name, cached: runs.cached.every(Boolean), metrics });
    return metrics;
  };
  return (rung) => {
    let value = memo.get(rung.name);
    if (!value) {
      value = train(rung);
      memo.set(rung.name, value);
      value.catch(() => memo.delete(rung.name)); // a stopped or failed training is tried again when asked again
    }
    return value;
  };
}

export interface LadderContext {
  archive: Archive;
  config: CampaignConfig;
  campaignId: string;
  signal: AbortSignal;
  /** The slot's torch device for run specs ("cpu" or "cuda") and its GPU index (undefined on CPU). */
  device: string;
  gpu: string | undefined;
  evaluate: (spec: RunSpec, runDir: string, rung?: string) => Promise<{ result: RunResult; processS: number }>;
  baselines: RungBaselines;
  onStage: (id: string, stage: string) => void;
  emit: (e: LadderEvent) => void;
}

/** Whether this finished candidate has a climb step left (a decision to make, a rung to train): resume it. */
export function climbPending(config: CampaignConfig, exp: Experiment): boolean {
  return exp.status === "done" && exp.fitness !== null && nextClimbStep(exp, trainingRungs(config).map((r) => r.name)).kind !== "done";
}

/**
 * Climbs a finished candidate as far as its promotions allow, one recorded step at a time; returns it as
 * recorded. Throws Interrupted when the campaign stops (it resumes from the last recorded step).
 */
export async function climb(ctx: LadderContext, start: Experiment): Promise<Experiment> {
  const { archive, config } = ctx;
  const rungs = trainingRungs(config);
  let exp = start;
  if (exp.status !== "done" || !exp.fitness) return exp;
  for (;;) {
    if (ctx.signal.aborted) throw new Interrupted();
    const step = nextClimbStep(exp, rungs.map((r) => r.name));
    if (step.kind === "done") return exp;
    if (step.kind === "record") {
      // The first rung's result is the experiment's (re-run) fitness, judged against that rung's baseline.
      const first = firstRung(config);
      exp = await addRung(ctx, exp, rungResult(first, 0, exp.stages[first.name]!, exp.fitness, config));
    } else if (step.kind === "decide") {
      exp = await decide(ctx, exp, rungs.find((r) => r.name === step.from)!, step.to);
    } else {
      const level = rungs.findIndex((r) => r.name === step.rung);
      exp = await train(ctx, exp, rungs[level]!, level);
    }
  }
}

async function decide(ctx: LadderContext, exp: Experiment, from: TrainingRung, to: string): Promise<Experiment> {
  const { archive, config } = ctx;
  const rung = rungEntries(archive.experiments({ campaign: ctx.campaignId }), from.name);
  const byRule = promote(from.promote, rung, exp.id);
  let verdict: Confirmation["verdict"] | null = null;
  let failed: string | null = null;
  if (byRule.promote) {
    // Every climb is confirmed first, on seeds that never selected it, against the baseline on the same seeds.
    const seeds = config.confirm.seeds;
    const perRun = (exp.stages[from.name]?.wallS ?? 0) / from.seeds;
    ctx.emit({ type: "confirming", ids: [exp.id], seeds, runs: 2 * seeds, estimateS: 2 * seeds * perRun });
    ctx.onStage(exp.id, `confirming on ${from.name}`);
    try {
      const confirmation = await confirmExperiment(archive, exp.id, { seeds, stage: from.name, signal: ctx.signal, gpu: ctx.gpu });
      ctx.emit({ type: "confirmed", id: exp.id, confirmation });
      verdict = confirmation.verdict;
    } catch (err) {
      if (ctx.signal.aborted) throw new Interrupted(); // nothing recorded: the decision is made again on resume
      failed = (err as Error).message.split("\n")[0]!; // e.g. the baseline failed on a fresh seed: no climb, said why
    }
  }
  const final = failed === null ? withConfirmation(from.promote, byRule, verdict)
    : { promote: false, reasons: [...byRule.reasons, `confirmation on fresh seeds could not run (${failed}): fail`] };
  const decision: PromotionDecision = { from: from.name, to, promoted: final.promote, reasons: final.reasons, confirmation: verdict, at: new Date().toISOString() };
  const fresh = archive.getExperiment(exp.id)!;
  const out = await archive.updateExperiment(exp.id, { promotions: [...(fresh.promotions ?? []), decision] }, { note: `${decision.promoted ? "promoted" : "not promoted"} ${from.name} → ${to}` });
  ctx.emit({ type: "promotion", id: exp.id, name: exp.name, decision });
  return out;
}

async function train(ctx: LadderContext, exp: Experiment, rung: TrainingRung, level: number): Promise<Experiment> {
  const { archive, config } = ctx;
  ctx.onStage(exp.id, rung.name);
  const run = await runRung({ archive, config, device: ctx.device, evaluate: ctx.evaluate, signal: ctx.signal }, exp, rung);
  const fresh = archive.getExperiment(exp.id)!;
  const seconds = run.results.reduce((s, r) => s + r.wall_s, 0);
  const onGpu = run.results.some((r) => r.env.device !== "cpu");
  exp = await archive.updateExperiment(exp.id, {
    stages: { ...fresh.stages, [rung.name]: run.summary },
    costs: { ...fresh.costs, cpuSeconds: fresh.costs.cpuSeconds + (onGpu ? 0 : seconds), gpuSeconds: fresh.costs.gpuSeconds + (onGpu ? seconds : 0) },
  });
  let fitness = null;
  if (run.summary.status === "ok") {
    const baseline = await ctx.baselines(rung);
    if (ctx.signal.aborted) throw new Interrupted();
    const judge = exp.fitness?.inputs.judge ?? null; // the judge scored the design once; it holds on every rung
    fitness = computeFitness(fitnessInputs(stageMetrics(run.summary), baseline, judge, rung.seeds), config.fitness);
  }
  return addRung(ctx, exp, rungResult(rung, level, run.summary, fitness, config));
}

function rungResult(rung: TrainingRung, level: number, summary: StageSummary, fitness: Experiment["fitness"], config: CampaignConfig): RungResult {
  return {
    rung: rung.name, stage: rung.stage, preset: rung.preset, level, status: summary.status, fitness,
    verdict: fitness ? versusBaseline(fitness, config.fitness) : null, at: new Date().toISOString(),
  };
}

async function addRung(ctx: LadderContext, exp: Experiment, result: RungResult): Promise<Experiment> {
  const fresh = ctx.archive.getExperiment(exp.id)!;
  const out = await ctx.archive.updateExperiment(exp.id, { rungs: [...(fresh.rungs ?? []).filter((r) => r.rung !== result.rung), result] });
  ctx.emit({ type: "rung", id: exp.id, name: exp.name, result });
  return out;
}
