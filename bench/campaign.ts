// Campaign-level measurements on real campaigns (quick proxy preset by default):
// - orchestrator overhead: the share of an experiment's wall time not spent inside harness child processes;
// - guidance: best fitness and best proxy score of the guided offline proposer vs uniform random proposals at the
//   same budget, over several campaign seeds (each pair shares its seed and its cached baseline).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Archive } from "../src/archive/archive.ts";
import { runCampaign } from "../src/campaign/campaign.ts";
import { CampaignConfig } from "../src/campaign/config.ts";
import type { Experiment } from "../src/contracts/experiment.ts";

export interface CampaignBenchOptions {
  preset: string;
  /** Proposals per campaign after the seed design. */
  budget: number;
  seeds: number[];
}

export const CAMPAIGN_BENCH_DEFAULTS: CampaignBenchOptions = { preset: "quick", budget: 8, seeds: [0, 1, 2] };

function config(archive: string, name: string, budget: number, kind: "mutation" | "random", seed: number, preset: string): CampaignConfig {
  return CampaignConfig.parse({ name, archive, seed, budget: { experiments: budget }, stages: { proxy: { preset } }, proposer: { kind } });
}

/** Runs a campaign; returns its experiments except the seed design (shared ground, not a proposal). */
async function campaign(cfg: CampaignConfig): Promise<Experiment[]> {
  await runCampaign({ config: cfg, signal: new AbortController().signal });
  const archive = await Archive.open(cfg.archive, { mode: "read" });
  try {
    return archive.experiments().filter((e) => e.campaign.startsWith(cfg.name) && e.proposer !== "seed");
  } finally {
    await archive.close();
  }
}

const best = (exps: Experiment[], f: (e: Experiment) => number | undefined) =>
  Math.max(...exps.map((e) => f(e) ?? -Infinity));
const fitness = (e: Experiment) => e.fitness?.value;
const score = (e: Experiment) => (e.status === "done" ? e.stages.proxy?.metrics.score ?? undefined : undefined);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Mean fitness over all proposals, a rejected or failed one counting 0: the quality of the proposal stream. */
const meanFitness = (exps: Experiment[]) => mean(exps.map((e) => fitness(e) ?? 0));

export async function benchCampaign({ preset, budget, seeds }: CampaignBenchOptions = CAMPAIGN_BENCH_DEFAULTS): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-campaign-"));
  const rows: string[] = [];
  const totals = {
    guided: { f: [] as number[], s: [] as number[], mean: [] as number[] },
    random: { f: [] as number[], s: [] as number[], mean: [] as number[] },
  };
  let wall = 0;
  let child = 0;
  let experiments = 0;
  for (const seed of seeds) {
    const guidedDir = path.join(tmp, `guided-${seed}`);
    // The seed design first, so the baseline's one-off training is not counted as orchestration.
    await campaign(config(guidedDir, "warm", 1, "mutation", seed, preset));
    const guided = await campaign(config(guidedDir, "guided", budget, "mutation", seed, preset));
    for (const e of guided) {
      wall += (Date.parse(e.transitions.at(-1)!.at) - Date.parse(e.transitions[0]!.at)) / 1000;
      child += Object.values(e.stages).reduce((s, st) => s + st.processS, 0);
      experiments += 1;
    }
    const randomDir = path.join(tmp, `random-${seed}`);
    fs.mkdirSync(randomDir, { recursive: true });
    fs.cpSync(path.join(guidedDir, "baselines"), path.join(randomDir, "baselines"), { recursive: true });
    const random = await campaign(config(randomDir, "random", budget + 1, "random", seed, preset));
    for (const [name, exps] of [["guided", guided], ["random", random]] as const) {
      totals[name].f.push(best(exps, fitness));
      totals[name].s.push(best(exps, score));
      totals[name].mean.push(meanFitness(exps));
      const outcome = `${exps.filter((e) => e.status === "done").length} done / ${exps.filter((e) => e.status !== "done").length} rejected or failed`;
      rows.push(`| ${seed} | ${name} | ${best(exps, fitness).toFixed(4)} | ${meanFitness(exps).toFixed(4)} | ${best(exps, score).toFixed(4)} | ${outcome} |`);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return [
    `orchestrator overhead (${preset} preset, ${experiments} experiments): ${(wall - child).toFixed(1)} s of ${wall.toFixed(1)} s experiment wall time outside harness processes = ${((1 - child / wall) * 100).toFixed(2)}% (${(((wall - child) / experiments) * 1000).toFixed(0)} ms per experiment of ${(wall / experiments).toFixed(1)} s; target <= 1%)`,
    ``,
    `guidance: ${budget} proposals per campaign after the DeltaNet seed, ${preset} preset, campaign seeds ${seeds.join(", ")}`,
    `| seed | proposer | best fitness | mean fitness (failed = 0) | best proxy score | outcomes |`, `|---|---|---|---|---|---|`,
    ...rows,
    `| mean | guided (experience-weighted mutation) | ${mean(totals.guided.f).toFixed(4)} | ${mean(totals.guided.mean).toFixed(4)} | ${mean(totals.guided.s).toFixed(4)} | |`,
    `| mean | uniform random designs | ${mean(totals.random.f).toFixed(4)} | ${mean(totals.random.mean).toFixed(4)} | ${mean(totals.random.s).toFixed(4)} | |`,
    `(fitness saturates at 3.0 once both proxy numbers beat the baseline by >10%: compare the mean fitness and scores too)`,
  ].join("\n");
}
