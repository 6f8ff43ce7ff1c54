// Campaign-level measurements on real tiny-preset campaigns:
// - orchestrator overhead: the share of an experiment's wall time not spent inside harness child processes;
// - guidance: best fitness of the guided offline proposer vs uniform random proposals at the same budget.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Archive } from "../src/archive/archive.ts";
import { runCampaign } from "../src/campaign/campaign.ts";
import { CampaignConfig } from "../src/campaign/config.ts";
import type { Experiment } from "../src/contracts/experiment.ts";

const BUDGET = 10;

function config(archive: string, name: string, budget: number, kind: "mutation" | "random"): CampaignConfig {
  return CampaignConfig.parse({
    name, archive, budget: { experiments: budget },
    stages: { proxy: { preset: "tiny" } },
    proposer: { kind },
  });
}

async function campaign(cfg: CampaignConfig): Promise<Experiment[]> {
  await runCampaign({ config: cfg, signal: new AbortController().signal });
  const archive = await Archive.open(cfg.archive, { mode: "read" });
  try {
    // the seed (DeltaNet) is shared ground: only the proposals are compared
    return archive.experiments().filter((e) => e.campaign.startsWith(cfg.name) && e.proposer !== "seed");
  } finally {
    await archive.close();
  }
}

function overhead(exps: Experiment[]): { wall: number; child: number } {
  let wall = 0;
  let child = 0;
  for (const e of exps) {
    const t = e.transitions;
    wall += (Date.parse(t[t.length - 1]!.at) - Date.parse(t[0]!.at)) / 1000;
    child += Object.values(e.stages).reduce((s, st) => s + st.processS, 0);
  }
  return { wall, child };
}

const best = (exps: Experiment[]) => Math.max(...exps.map((e) => e.fitness?.value ?? -Infinity));

export async function benchCampaign(): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-campaign-"));
  const lines: string[] = [];
  // Warm the baseline cache first so its one-off training is not counted as orchestration.
  const guidedArchive = path.join(tmp, "guided");
  await campaign(config(guidedArchive, "warm", 1, "mutation"));
  const guided = await campaign(config(guidedArchive, "guided", BUDGET, "mutation"));
  const o = overhead(guided);
  lines.push(`orchestrator overhead (tiny preset, ${guided.length} experiments): ${((1 - o.child / o.wall) * 100).toFixed(2)}% of ${o.wall.toFixed(1)} s experiment wall time outside harness processes (target <= 1%; the share shrinks as stages get longer)`);

  const randomArchive = path.join(tmp, "random");
  fs.mkdirSync(randomArchive, { recursive: true });
  fs.cpSync(path.join(guidedArchive, "baselines"), path.join(randomArchive, "baselines"), { recursive: true });
  const random = await campaign(config(randomArchive, "random", BUDGET + 1, "random"));
  const counts = (exps: Experiment[]) => `${exps.filter((e) => e.status === "done").length} done / ${exps.filter((e) => e.status === "rejected").length} rejected / ${exps.filter((e) => e.status === "failed").length} failed`;
  lines.push(
    `guidance at a budget of ${BUDGET} experiments after the seed (tiny preset, seed 0):`,
    `| proposer | best fitness | outcomes |`, `|---|---|---|`,
    `| guided mutation (experience-weighted) | ${best(guided).toFixed(4)} | ${counts(guided)} |`,
    `| uniform random designs | ${best(random).toFixed(4)} | ${counts(random)} |`,
  );
  fs.rmSync(tmp, { recursive: true, force: true });
  return lines.join("\n");
}
