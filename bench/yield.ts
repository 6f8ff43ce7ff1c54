// Yield of a campaign's claimed wins (issue 13): a fixed-budget offline campaign, then every candidate it ranked
// above the DeltaNet baseline is re-trained with `archlab confirm`'s code on fresh seeds against the baseline on
// the same seeds. Reported: claims under two definitions (fitness above the baseline's at all, as a leaderboard
// reads; and beyond the noise band, what campaigns now confirm), how many of each hold, and the best confirmed
// paired improvement. `--yield-preset tiny|quick|full --yield-budget N --yield-seeds N` change the scale.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beatsBaseline, computeFitness, type FitnessInputs } from "../src/analyst/fitness.ts";
import { Archive } from "../src/archive/archive.ts";
import { runCampaign } from "../src/campaign/campaign.ts";
import { CampaignConfig } from "../src/campaign/config.ts";
import { confirmExperiment } from "../src/campaign/confirm.ts";
import type { Confirmation } from "../src/contracts/confirmation.ts";
import type { Experiment } from "../src/contracts/experiment.ts";

export interface YieldBenchOptions {
  preset: string;
  budget: number;
  /** Fresh seeds per confirmation. */
  seeds: number;
}

export const YIELD_BENCH_DEFAULTS: YieldBenchOptions = { preset: "quick", budget: 30, seeds: 3 };

/** The baseline's own fitness under the candidate's formula and inputs (0 for the noise formula). */
function baselineFitness(e: Experiment, config: CampaignConfig): number {
  const inputs = e.fitness!.inputs as unknown as FitnessInputs;
  return computeFitness({ ...inputs, loss: inputs.baselineLoss, benchmark: inputs.baselineBenchmark }, config.fitness)?.value ?? Infinity;
}

export async function benchYield({ preset, budget, seeds }: YieldBenchOptions = YIELD_BENCH_DEFAULTS): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-yield-"));
  const config = CampaignConfig.parse({ name: "yield", archive: dir, budget: { experiments: budget }, stages: { proxy: { preset } }, confirm: { top: 0 } });
  const started = performance.now();
  await runCampaign({ config, signal: new AbortController().signal });
  const campaignS = (performance.now() - started) / 1000;

  const archive = await Archive.open(dir, { mode: "write" });
  const lines: string[] = [];
  try {
    const done = archive.experiments().filter((e) => e.status === "done" && e.fitness && e.proposer !== "seed");
    const above = done.filter((e) => e.fitness!.value > baselineFitness(e, config)).sort((a, b) => b.fitness!.value - a.fitness!.value);
    const beyond = new Set(above.filter((e) => beatsBaseline(e.fitness!, config.fitness)).map((e) => e.id));
    const verdicts = new Map<string, Confirmation>();
    const confirmStarted = performance.now();
    for (const e of above) verdicts.set(e.id, await confirmExperiment(archive, e.id, { seeds }));
    const confirmS = (performance.now() - confirmStarted) / 1000;
    const held = (ids: Iterable<string>) => [...ids].filter((id) => verdicts.get(id)!.verdict === "confirmed better");
    const share = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(0)}%`);
    const heldAbove = held(above.map((e) => e.id));
    const heldBeyond = held(beyond);
    lines.push(
      `preset ${preset}, ${budget} experiments (${done.length} finished), campaign ${campaignS.toFixed(0)} s; confirmations on ${seeds} fresh seeds each, ${confirmS.toFixed(0)} s`,
      `archive: ${dir}`,
      "",
      "| claimed win | claimed | confirmed better | not confirmed | confirmed worse | held |",
      "|---|---|---|---|---|---|",
    );
    for (const [what, ids] of [["fitness above the baseline's", above.map((e) => e.id)], ["beyond the noise band (what campaigns confirm)", [...beyond]]] as const) {
      const count = (v: Confirmation["verdict"]) => ids.filter((id) => verdicts.get(id)!.verdict === v).length;
      lines.push(`| ${what} | ${ids.length} | ${count("confirmed better")} | ${count("not confirmed")} | ${count("confirmed worse")} | ${share(count("confirmed better"), ids.length)} |`);
    }
    let best: { id: string; mean: number; std: number | null } | null = null;
    for (const id of heldAbove) {
      const score = verdicts.get(id)!.metrics.find((m) => m.metric === "score");
      if (score && (!best || score.mean > best.mean)) best = { id, mean: score.mean, std: score.std };
    }
    lines.push("", best
      ? `best confirmed paired improvement: ${best.id} score ${best.mean >= 0 ? "+" : ""}${best.mean.toFixed(4)} ± ${best.std?.toFixed(4) ?? "-"} over ${seeds} fresh seeds`
      : "no claimed win was confirmed better");
    lines.push(`held beyond the band: ${heldBeyond.length} of ${beyond.size}; above at all: ${heldAbove.length} of ${above.length} (target >= 50%; ASI-Arch about 26%)`);
    for (const e of above) {
      const c = verdicts.get(e.id)!;
      const d = c.metrics.filter((m) => c.decidedOn.includes(m.metric)).map((m) => `${m.metric} ${m.mean >= 0 ? "+" : ""}${m.mean.toFixed(4)}${m.std === null ? "" : `±${m.std.toFixed(4)}`}`).join(", ");
      lines.push(`  ${e.id} ${e.name.padEnd(34)} fitness ${e.fitness!.value.toFixed(2)} ±${e.fitness!.band?.toFixed(2) ?? "-"}${beyond.has(e.id) ? " (beyond band)" : ""}: ${c.verdict} (${d || c.failure})`);
    }
  } finally {
    await archive.close();
  }
  return lines.join("\n");
}
