/**
 * Multi-seed where it pays (issue 13): a candidate whose result is above the archive's best but within noise of
 * it is trained on the next seed before it is ranked above its rival, and its stage metrics and fitness become
 * means over its seeds (the band narrows by sqrt(n)). At most up to the noise floor's seeds, which confirmations
 * never reuse. Each re-run costs one proxy run, announced before it starts.
 */
import fs from "node:fs";
import path from "node:path";
import { computeFitness, fitnessInputs, needsMoreSeeds } from "../analyst/fitness.ts";
import { stageMetrics } from "../analyst/rules.ts";
import type { Archive } from "../archive/archive.ts";
import type { Experiment } from "../contracts/experiment.ts";
import { RunResult } from "../contracts/result.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { combineSeeds } from "./baseline.ts";
import type { CampaignConfig } from "./config.ts";
import { firstRung, rungSpec } from "./rungs.ts";

export interface RerunEvent {
  id: string;
  rival: string;
  seed: number;
  /** The candidate's mean proxy run time so far: what one more run costs. */
  estimateS: number;
}

/** The results an experiment has on a rung: its run folder's result.json files (one per seed). */
function rungResults(exp: Experiment, rung: string): RunResult[] {
  const dir = exp.stages[rung]?.runDir;
  if (!dir || !fs.existsSync(dir)) return [];
  const files = [path.join(dir, "result.json"), ...fs.readdirSync(dir).filter((d) => /^(rerun-)?seed\d+$/.test(d)).map((d) => path.join(dir, d, "result.json"))];
  return files.filter((f) => fs.existsSync(f)).map((f) => RunResult.parse(JSON.parse(fs.readFileSync(f, "utf8")))).filter((r) => r.status === "ok");
}

/**
 * Re-runs `exp` while it is within noise above the best other finished experiment, up to the noise floor's
 * seeds; returns it as recorded. `evaluate` trains one spec (the campaign's slot runner).
 */
export async function rerunWhileTied(
  archive: Archive, config: CampaignConfig, exp: Experiment, baseline: Record<string, number> | null,
  evaluate: (spec: RunSpec, runDir: string) => Promise<{ result: RunResult; processS: number }>,
  onRerun: (event: RerunEvent) => void, allowed: () => boolean,
  /** The slot's torch device ("cpu", or "cuda": the slot's GPU), as the candidate's first runs had. */
  device = "cpu",
): Promise<Experiment> {
  const rung = firstRung(config);
  const maxSamples = Math.max(rung.baseline_seeds, rung.seeds);
  for (;;) {
    if (exp.status !== "done" || !exp.fitness || !exp.stages[rung.name] || !allowed()) return exp;
    const rival = archive.leaderboard({ sortBy: "fitness", limit: 2, status: "done" }).find((e) => e.id !== exp.id);
    if (!rival?.fitness || !needsMoreSeeds(exp.fitness, rival.fitness, maxSamples)) return exp;
    const results = rungResults(exp, rung.name);
    const seed = config.seed + results.length;
    const proxy = exp.stages[rung.name]!;
    onRerun({ id: exp.id, rival: rival.id, seed, estimateS: proxy.wallS / Math.max(1, results.length) });
    const runDir = path.join(proxy.runDir, `rerun-seed${seed}`);
    const spec = rungSpec(config, rung, { layerPath: archive.codePath(exp.codeHash!), className: "DeltaNet", runDir, seed, device });
    const { result, processS } = await evaluate(spec, runDir);
    if (result.status !== "ok") {
      await archive.writeText(exp.id, "reruns", `${(await archive.readText(exp.id, "reruns")) ?? ""}Re-run on seed ${seed} ${result.status}: ${result.error?.message ?? "no message"}; ranked on its earlier seeds.\n`);
      return exp;
    }
    const all = [...results, result];
    const stages = { ...exp.stages, [rung.name]: { ...proxy, metrics: combineSeeds(all), wallS: proxy.wallS + result.wall_s, processS: proxy.processS + processS } };
    const metrics = stageMetrics(stages[rung.name]);
    const before = exp.fitness;
    const fitness = computeFitness(fitnessInputs(metrics, baseline, before.inputs.judge ?? null, all.length), config.fitness);
    const costs = { ...exp.costs, cpuSeconds: exp.costs.cpuSeconds + (result.env.device === "cpu" ? result.wall_s : 0), gpuSeconds: exp.costs.gpuSeconds + (result.env.device === "cpu" ? 0 : result.wall_s) };
    exp = await archive.updateExperiment(exp.id, { stages, fitness, costs });
    await archive.writeText(exp.id, "reruns", `${(await archive.readText(exp.id, "reruns")) ?? ""}Within noise above ${rival.id} (fitness ${before.value.toFixed(4)} ± ${before.band?.toFixed(4)} vs ${rival.fitness.value.toFixed(4)}): re-run on seed ${seed} (${result.wall_s.toFixed(1)} s); now ${fitness?.value.toFixed(4)} ± ${fitness?.band?.toFixed(4)} over ${all.length} seeds.\n`);
  }
}
