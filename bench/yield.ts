// Yield of a campaign's claimed wins (issues 13 and 14): a fixed-budget offline campaign, then every candidate it
// ranked above the DeltaNet baseline is re-trained with `archlab confirm`'s code on fresh seeds against the
// baseline on the same seeds. Reported: claims under two definitions (fitness above the baseline's at all, as a
// leaderboard reads; and beyond the noise band, what campaigns confirm), how many of each hold, and the best
// confirmed paired improvement. Then the next rung: every confirmed winner and the baseline train on the lm rung
// (lm-cpu) on the same seeds, and the share that stays better is reported. `--yield-preset tiny|quick|full
// --yield-budget N --yield-seeds N --yield-parallel N --yield-lm-seeds N --yield-lm-floor-seeds N --yield-lm-top N` change the scale; `--yield-archive DIR`
// takes an archive an earlier run left (a stopped one too): no new campaign, and confirmations already recorded
// there are reused.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PQueue from "p-queue";
import { beatsBaseline, computeFitness, type FitnessInputs } from "../src/analyst/fitness.ts";
import { compareToBaseline, floorOfRuns } from "../src/analyst/seeds.ts";
import { claimedWin, decidingMetrics, verdictOn } from "../src/analyst/confirm.ts";
import { Archive } from "../src/archive/archive.ts";
import { runCampaign } from "../src/campaign/campaign.ts";
import { CampaignConfig } from "../src/campaign/config.ts";
import { campaignConfigOf, confirmExperiment } from "../src/campaign/confirm.ts";
import type { Confirmation } from "../src/contracts/confirmation.ts";
import type { Experiment } from "../src/contracts/experiment.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import type { LmPreset } from "../src/runner/stages.ts";
import { firstRung } from "../src/campaign/rungs.ts";
import { trainCached } from "./fidelity.ts";

export interface YieldBenchOptions {
  preset: string;
  budget: number;
  /** Fresh seeds per confirmation. */
  seeds: number;
  /** Experiments (and confirmations) at once (CPU slots, one thread each). */
  parallel?: number;
  /** An existing campaign archive: no new campaign; recorded confirmations are reused. */
  archive?: string;
  /** The next rung for the confirmed winners and the baseline (0 seeds: skip it). */
  lmPreset?: LmPreset;
  lmSeeds?: number;
  /** Seeds the baseline trains on at the lm rung (at least lmSeeds): their spread is that rung's noise floor. */
  lmFloorSeeds?: number;
  /** Only the best N confirmed winners (by fitness) climb to the lm rung (default: all). */
  lmTop?: number;
}

export const YIELD_BENCH_DEFAULTS: YieldBenchOptions = { preset: "quick", budget: 30, seeds: 3, parallel: 1, lmPreset: "lm-cpu", lmSeeds: 1, lmFloorSeeds: 3 };

/** The baseline's own fitness under the candidate's formula and inputs (0 for the noise formula). */
function baselineFitness(e: Experiment, config: CampaignConfig): number {
  const inputs = e.fitness!.inputs as unknown as FitnessInputs;
  return computeFitness({ ...inputs, loss: inputs.baselineLoss, benchmark: inputs.baselineBenchmark }, config.fitness)?.value ?? Infinity;
}

const signed = (v: number, d = 4) => `${v >= 0 ? "+" : ""}${v.toFixed(d)}`;

/** Runs `job` on every item, `parallel` at a time. */
async function pool<T>(items: readonly T[], parallel: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = new PQueue({ concurrency: Math.max(1, parallel) });
  await Promise.all(items.map((item) => queue.add(() => job(item))));
}

export async function benchYield(opts: YieldBenchOptions = YIELD_BENCH_DEFAULTS): Promise<string> {
  const { preset, budget, seeds, parallel = 1, lmPreset = "lm-cpu", lmSeeds = 1, lmFloorSeeds = 3, lmTop = Infinity } = opts;
  const dir = opts.archive ?? fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-yield-"));
  let campaignLine = `existing archive ${dir} (no new campaign)`;
  if (!opts.archive) {
    const config = CampaignConfig.parse({ name: "yield", archive: dir, budget: { experiments: budget }, parallel, stages: { proxy: { preset } }, confirm: { top: 0 } });
    const started = performance.now();
    await runCampaign({ config, signal: new AbortController().signal });
    campaignLine = `preset ${preset}, budget ${budget} experiments, campaign ${((performance.now() - started) / 1000).toFixed(0)} s (${parallel} at a time)`;
  }

  const archive = await Archive.open(dir, { mode: "write" });
  const lines: string[] = [];
  try {
    const done = archive.experiments().filter((e) => e.status === "done" && e.fitness && e.proposer !== "seed");
    if (done.length === 0) return `${campaignLine}: no finished candidate to confirm`;
    const config = campaignConfigOf(archive, done[0]!);
    const above = done.filter((e) => e.fitness!.value > baselineFitness(e, config)).sort((a, b) => b.fitness!.value - a.fitness!.value);
    const beyond = new Set(above.filter((e) => beatsBaseline(e.fitness!, config.fitness)).map((e) => e.id));
    const verdicts = new Map<string, Confirmation>();
    // A confirmation recorded before is re-judged on the metrics this campaign's fitness ranks by (its stored
    // per-metric verdicts), so an archive confirmed under another rule is read under the current one.
    const deciding = decidingMetrics(config.fitness);
    for (const e of above) {
      const earlier = e.confirmations?.find((c) => c.seeds.length >= seeds);
      if (earlier) verdicts.set(e.id, earlier.failure ? earlier : { ...earlier, verdict: verdictOn(earlier.metrics, deciding), decidedOn: deciding });
    }
    const todo = above.filter((e) => !verdicts.has(e.id));
    const confirmStarted = performance.now();
    // The first confirmation trains the baseline on the fresh seeds (cached); the rest share it, `parallel` at a time.
    const confirm = async (e: Experiment) => { verdicts.set(e.id, await confirmExperiment(archive, e.id, { seeds })); };
    if (todo.length) await confirm(todo[0]!);
    await pool(todo.slice(1), parallel, confirm);
    const confirmS = (performance.now() - confirmStarted) / 1000;
    const held = (ids: Iterable<string>) => [...ids].filter((id) => verdicts.get(id)!.verdict === "confirmed better");
    const share = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(0)}%`);
    const heldAbove = held(above.map((e) => e.id));
    const heldBeyond = held(beyond);
    const claimed = above.filter((e) => claimedWin(verdicts.get(e.id)));
    lines.push(
      `${campaignLine}; ${done.length} candidates finished (preset ${firstRung(config).preset}, ${firstRung(config).seeds} seed(s) each); ` +
        `confirmations on ${seeds} fresh seeds each: ${todo.length} now (${confirmS.toFixed(0)} s, ${parallel} at a time), ${above.length - todo.length} recorded before`,
      `archive: ${dir}`,
      "",
      "| claimed win | claimed | confirmed better | not confirmed | confirmed worse | held |",
      "|---|---|---|---|---|---|",
    );
    for (const [what, ids] of [["fitness above the baseline's", above.map((e) => e.id)], ["beyond the noise band (what campaigns confirm)", [...beyond]]] as const) {
      const count = (v: Confirmation["verdict"]) => ids.filter((id) => verdicts.get(id)!.verdict === v).length;
      lines.push(`| ${what} | ${ids.length} | ${count("confirmed better")} | ${count("not confirmed")} | ${count("confirmed worse")} | ${share(count("confirmed better"), ids.length)} |`);
    }
    // The best on the first metric the confirmations decide on (eval_loss under the default fitness).
    const key = deciding.includes("eval_loss") ? "eval_loss" : "score";
    const gain = (mean: number) => (key === "eval_loss" ? -mean : mean);
    let best: { id: string; mean: number; std: number | null } | null = null;
    for (const id of heldAbove) {
      const m = verdicts.get(id)!.metrics.find((x) => x.metric === key);
      if (m && (!best || gain(m.mean) > gain(best.mean))) best = { id, mean: m.mean, std: m.std };
    }
    lines.push("", best
      ? `best confirmed paired improvement: ${best.id} ${key} ${signed(best.mean)} ± ${best.std?.toFixed(4) ?? "-"} over ${seeds} fresh seeds`
      : "no claimed win was confirmed better");
    lines.push(`held beyond the band: ${heldBeyond.length} of ${beyond.size}; above at all: ${heldAbove.length} of ${above.length} (target >= 50%; ASI-Arch about 26%)`);
    lines.push(`discoveries (a campaign's claimed wins: confirmed better on fresh seeds): ${claimed.length}`);
    for (const e of above) {
      const c = verdicts.get(e.id)!;
      const d = c.metrics.filter((m) => c.decidedOn.includes(m.metric)).map((m) => `${m.metric} ${signed(m.mean)}${m.std === null ? "" : `±${m.std.toFixed(4)}`}`).join(", ");
      lines.push(`  ${e.id} ${e.name.padEnd(34)} fitness ${e.fitness!.value.toFixed(2)} ±${e.fitness!.band?.toFixed(2) ?? "-"}${beyond.has(e.id) ? " (beyond band)" : ""}: ${c.verdict} (${d || c.failure})`);
    }
    const cut = heldAbove.length > lmTop ? [`${lmPreset}: the best ${lmTop} of the ${heldAbove.length} confirmed winners by fitness (--yield-lm-top)`] : [];
    if (lmSeeds > 0) lines.push("", ...cut, ...(await nextRung(archive, config, heldAbove.slice(0, lmTop), lmPreset, lmSeeds, Math.max(lmSeeds, lmFloorSeeds), parallel)));
  } finally {
    await archive.close();
  }
  return lines.join("\n");
}

/**
 * Issue 14: of the confirmed proxy winners, the share whose lm-rung held-out loss stays below the baseline's
 * beyond that rung's noise: candidates train on `lmSeeds` seeds, the baseline on `floorSeeds` (its spread is the
 * floor), and a candidate stays better only when its paired difference on the shared seeds clears the band.
 */
async function nextRung(
  archive: Archive, config: CampaignConfig, ids: readonly string[], lmPreset: LmPreset, lmSeeds: number, floorSeeds: number, parallel: number,
): Promise<string[]> {
  if (ids.length === 0) return [`${lmPreset}: no confirmed winner to train`];
  const seedsOf = (n: number) => Array.from({ length: n }, (_, i) => i);
  const layers = [
    { id: "baseline", path: path.resolve(PROJECT_ROOT, config.baseline.path), className: config.baseline.class_name, seeds: seedsOf(floorSeeds) },
    ...ids.map((id) => ({ id, path: archive.codePath(archive.requireExperiment(id).codeHash!), className: "DeltaNet", seeds: seedsOf(lmSeeds) })),
  ];
  const results = new Map<string, Awaited<ReturnType<typeof trainCached>>[]>();
  const started = performance.now();
  await pool(layers.flatMap((l) => l.seeds.map((seed) => ({ l, seed }))), parallel, async ({ l, seed }) => {
    const r = await trainCached({ stage: "lm", layerPath: l.path, className: l.className, seed, lm: { preset: lmPreset } });
    results.set(l.id, [...(results.get(l.id) ?? []), r].sort((a, b) => a.env.seed - b.env.seed));
  });
  const base = results.get("baseline")!;
  if (base.some((r) => r.status !== "ok")) return [`${lmPreset}: the baseline did not train (${base.map((r) => r.status).join(", ")})`];
  const floor = floorOfRuns(base);
  const baseLoss = base.map((r) => r.metrics["tokens/loss"] as number);
  const lines = [
    `${lmPreset} rung: candidates on seeds ${seedsOf(lmSeeds).join(",")}, the baseline on seeds ${seedsOf(floorSeeds).join(",")} ` +
      `(loss ${baseLoss.map((v) => v.toFixed(4)).join("/")}, noise floor ${floor?.metrics["tokens/loss"]?.std.toFixed(4) ?? "unknown"}); ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s, runs cached in runs/bench/cache:`,
  ];
  let lower = 0;
  let stays = 0;
  for (const id of ids) {
    const mine = results.get(id)!;
    if (mine.some((r) => r.status !== "ok")) { lines.push(`  ${id}: ${mine.map((r) => r.status).join(", ")} on ${lmPreset}`); continue; }
    const loss = compareToBaseline(mine, base, floor).find((m) => m.metric === "tokens/loss")!;
    if (loss.difference.mean < 0) lower++;
    const better = loss.verdict === "better";
    if (better) stays++;
    lines.push(`  ${id}: ${lmPreset} loss ${mine.map((r) => (r.metrics["tokens/loss"] as number).toFixed(4)).join("/")}: ` +
      `${signed(loss.difference.mean)} vs the baseline on the same seed(s), band ±${loss.band?.toFixed(4) ?? "-"} (${loss.verdict})${better ? " -> stays better" : ""}`);
  }
  lines.push(`confirmed proxy winners with a lower ${lmPreset} loss: ${lower} of ${ids.length}; beyond the rung's noise band: ${stays} of ${ids.length} (target >= 50%; ASI-Arch about 26%)`);
  return lines;
}
