/**
 * Confirmation (issue 13): re-train a candidate on fresh seeds (never the seeds that selected it, nor those it
 * was confirmed on before) against the baseline on the same seeds, and record the paired differences and the
 * verdict on the experiment. The baseline's fresh-seed runs are cached like any baseline run, so confirming
 * several candidates trains the baseline once per seed. Used by `archlab confirm` and by campaigns.
 */
import path from "node:path";
import { decidingMetrics, freshSeeds, judgeConfirmation } from "../analyst/confirm.ts";
import { beatsBaseline } from "../analyst/fitness.ts";
import type { Archive } from "../archive/archive.ts";
import type { Confirmation } from "../contracts/confirmation.ts";
import type { Experiment } from "../contracts/experiment.ts";
import type { RunResult } from "../contracts/result.ts";
import { UserError } from "../errors.ts";
import { runHarness } from "../runner/harness.ts";
import { baselineDir, baselineKey, baselineRuns, baselineSpecs, cachedBaseline, cachedNoiseFloor, deviceOf, noiseFloorSeeds, selectionSeeds } from "./baseline.ts";
import { CampaignConfig, slotsOf } from "./config.ts";
import { firstRung, rungSpec, trainingRungs, type TrainingRung } from "./rungs.ts";

/** The stages a confirmation can re-train: any training rung of the experiment's campaign, by name or stage. */
export const CONFIRM_STAGES = ["proxy", "lm"] as const;

export interface ConfirmOptions {
  seeds: number;
  /** The rung (its name, or its stage) to re-train on; default: the campaign's first training rung. */
  stage?: string;
  /** The slot's GPU (a campaign's); default: the campaign config's first slot. */
  gpu?: string;
  signal?: AbortSignal;
  /** Called before each training run: what it is and on which seed. */
  onRun?: (what: "candidate" | "baseline", seed: number) => void;
  now?: () => Date;
}

/** The config the experiment's campaign ran with (frozen in the archive), which the confirmation reuses. */
export function campaignConfigOf(archive: Archive, exp: Experiment): CampaignConfig {
  const campaign = archive.getCampaign(exp.campaign);
  const parsed = campaign ? CampaignConfig.safeParse(campaign.config) : null;
  if (!parsed?.success) throw new UserError(`${exp.id} has no usable campaign config to re-train it with (campaign ${exp.campaign})`);
  return parsed.data;
}

/** Seeds a confirmation of this experiment must not use: those that selected it and earlier confirmations'. */
export function excludedSeeds(exp: Experiment, config: CampaignConfig, rung: TrainingRung = firstRung(config)): number[] {
  const used = new Set([...selectionSeeds(config, rung), ...noiseFloorSeeds(config, rung), ...(exp.confirmations ?? []).flatMap((c) => c.seeds)]);
  return [...used].sort((a, b) => a - b);
}

export async function confirmExperiment(archive: Archive, id: string, opts: ConfirmOptions): Promise<Confirmation> {
  const exp = archive.requireExperiment(id);
  if (exp.status !== "done" || !exp.codeHash) throw new UserError(`${id} is ${exp.status}; only a finished experiment (status done) can be confirmed`);
  const config = campaignConfigOf(archive, exp);
  const rungs = trainingRungs(config);
  const rung = opts.stage === undefined ? rungs[0]! : rungs.find((r) => r.name === opts.stage) ?? rungs.find((r) => r.stage === opts.stage);
  if (!rung) throw new UserError(`--stage must be one of ${id}'s campaign rungs (${rungs.map((r) => r.name).join(", ")}), not "${opts.stage}"`);
  const excluded = excludedSeeds(exp, config, rung);
  const seeds = freshSeeds(opts.seeds, excluded);
  const n = (exp.confirmations?.length ?? 0) + 1;
  const runDir = archive.runDir(id, `confirm-${n}`);
  const gpu = opts.gpu ?? (config.devices === "auto" ? undefined : slotsOf(config)[0]);
  const specFor = (layerPath: string, className: string, seed: number, dir: string) =>
    rungSpec(config, rung, { layerPath, className, runDir: dir, seed, device: deviceOf(gpu) });
  const train = async (spec: ReturnType<typeof specFor>) => {
    const run = await runHarness(spec, { runDir: path.dirname(spec.result_path), signal: opts.signal, gpu, sandbox: config.sandbox });
    return run.result;
  };

  let wallS = 0;
  const candidate: RunResult[] = [];
  let failure: string | null = null;
  for (const seed of seeds) {
    opts.onRun?.("candidate", seed);
    const mine = await train(specFor(archive.codePath(exp.codeHash), "DeltaNet", seed, path.join(runDir, `seed${seed}`)));
    wallS += mine.wall_s;
    if (opts.signal?.aborted) throw new UserError(`confirmation of ${id} stopped by a signal; nothing recorded`);
    if (mine.status !== "ok") {
      failure = `the candidate ${mine.status} on fresh seed ${seed}: ${mine.error?.message ?? "no message"}`;
      break;
    }
    candidate.push(mine);
  }
  const cacheDir = baselineDir(archive.dir);
  const specs = baselineSpecs(archive.dir, config, candidate.map((r) => r.env.seed), deviceOf(gpu), rung);
  const runs = await baselineRuns(cacheDir, config.baseline.path, specs, async (spec) => {
    opts.onRun?.("baseline", spec.seed);
    const result = await train(spec);
    wallS += result.wall_s;
    return result;
  });
  if (!runs.ok) throw new UserError(`the baseline ${runs.result.status} on fresh seed ${specs[runs.index]!.seed}: ${runs.result.error?.message ?? "no message"}`);
  const floor = cachedNoiseFloor(cacheDir, baselineKey(baselineSpecs(archive.dir, config, undefined, deviceOf(gpu), rung)));
  const deciding = decidingMetrics(config.fitness);
  const judged = failure ? { verdict: "not confirmed" as const, metrics: [] } : judgeConfirmation(candidate, runs.results, floor, config.fitness.k, deciding);
  const confirmation: Confirmation = {
    at: (opts.now ?? (() => new Date()))().toISOString(), stage: rung.name, preset: rung.preset,
    seeds, excludedSeeds: excluded, verdict: judged.verdict, decidedOn: deciding, metrics: judged.metrics,
    failure, wallS, runDir,
  };
  const fresh = archive.getExperiment(id)!;
  await archive.updateExperiment(id, {
    confirmations: [...(fresh.confirmations ?? []), confirmation],
    costs: { ...fresh.costs, cpuSeconds: fresh.costs.cpuSeconds + (gpu === undefined ? wallS : 0), gpuSeconds: fresh.costs.gpuSeconds + (gpu === undefined ? 0 : wallS) },
  });
  return confirmation;
}

/**
 * Which of a campaign's candidates to confirm and what it costs: finished, never confirmed, beating the
 * baseline beyond the noise band, best fitness first, at most config.confirm.top. Runs: one per candidate and
 * fresh seed, plus the baseline on each fresh seed not in the cache; estimateS: runs x their mean proxy time.
 */
export function confirmationPlan(archive: Archive, config: CampaignConfig, experiments: readonly Experiment[]): { ids: string[]; runs: number; estimateS: number } {
  const winners = experiments
    .filter((e) => e.status === "done" && e.fitness && !e.confirmations?.length && beatsBaseline(e.fitness, config.fitness))
    .sort((a, b) => b.fitness!.value - a.fitness!.value)
    .slice(0, config.confirm.top);
  if (winners.length === 0) return { ids: [], runs: 0, estimateS: 0 };
  const seeds = freshSeeds(config.confirm.seeds, excludedSeeds(winners[0]!, config));
  const uncached = seeds.filter((seed) => !cachedBaseline(baselineDir(archive.dir), baselineKey(baselineSpecs(archive.dir, config, [seed])))).length;
  const runs = winners.length * seeds.length + uncached;
  const first = firstRung(config);
  const times = winners.map((e) => (e.stages[first.name]?.wallS ?? 0) / first.seeds);
  return { ids: winners.map((e) => e.id), runs, estimateS: runs * (times.reduce((a, b) => a + b, 0) / times.length) };
}
