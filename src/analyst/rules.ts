/**
 * The rule-based analyst (DESIGN §2.7): no LLM. Offline mutations change one gene, so parent -> child is an
 * ablation: it reports which change moved which metric, and aggregates those effects across the archive into
 * the experience the proposer reads. Every comparison is a noise-aware verdict (verdicts.ts): a difference
 * inside the stage's noise band is `within noise`, never "helped". Pure functions over records.
 */
import type { Experiment, ExperimentSummary, Fitness, StageSummary } from "../contracts/experiment.ts";
import { prefKey, type GeneName, type Preferences } from "../contracts/genome.ts";
import { DEFAULT_K, describeJudged, floorOf, judgeMetric, type Judged, type NoiseVerdict } from "./verdicts.ts";

/** The metrics of an experiment's last stage that ran to completion (means; no "<metric>:std" entries). */
export function finalMetrics(exp: Experiment): Record<string, number> {
  const stages = Object.values(exp.stages).filter((s) => s.status === "ok");
  return stageMetrics(stages[stages.length - 1]);
}

/** A stage's finite metrics, without the per-seed spread keys ("score:std", "score:n"). */
export function stageMetrics(stage: Pick<StageSummary, "metrics"> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stage?.metrics ?? {})) if (!k.includes(":") && v !== null && Number.isFinite(v)) out[k] = v;
  return out;
}

/** Seeds an experiment's metrics are a mean over (1 for records from before fitness stored it). */
function samplesOf(exp: Experiment): number {
  const n = exp.fitness?.inputs.samples;
  return typeof n === "number" && n > 0 ? n : 1;
}

/** Fitness a vs b: the difference, the band sqrt(band_a^2 + band_b^2) and the verdict (higher is better). */
export function judgeFitness(a: Pick<Fitness, "value" | "band">, b: Pick<Fitness, "value" | "band">): Judged {
  const band = a.band == null || b.band == null ? null : Math.hypot(a.band, b.band);
  const difference = a.value - b.value;
  const verdict: NoiseVerdict = band === null || Math.abs(difference) <= band ? "within noise" : difference > 0 ? "better" : "worse";
  return { metric: "fitness", difference, floor: band === null ? null : band / DEFAULT_K, band, verdict };
}

export interface GeneEffect {
  key: string;
  n: number;
  /** Mean child-minus-parent fitness over the single-gene changes to this value. */
  fitness: number;
  /** Per observation: better / worse / within noise. */
  verdicts: Record<NoiseVerdict, number>;
  /** What the proposer reads: the mean shrunk toward 0 by its uncertainty (leadWeight). */
  weight: number;
}

/**
 * How much a gene value's measured effect should steer the proposer: the mean effect, soft-thresholded by
 * k standard errors, sign(m) * max(0, |m| - k * s / sqrt(n)), where s is the larger of the observations' own
 * noise (root mean square of `noise`, each a std of one child - parent difference) and, from two observations
 * on, their spread. One within-noise "help" weighs 0 (not a lead); repeated, consistent gains grow toward
 * the mean as sqrt(n) shrinks the band. Without any noise estimate (one observation, no band), the old
 * n / (n + 1) shrinkage.
 */
export function leadWeight(deltas: readonly number[], noise: readonly (number | null)[], k = DEFAULT_K): number {
  const n = deltas.length;
  if (n === 0) return 0;
  const mean = deltas.reduce((a, b) => a + b, 0) / n;
  const known = noise.filter((s): s is number => s !== null);
  const own = known.length ? Math.sqrt(known.reduce((a, s) => a + s * s, 0) / known.length) : null;
  const spread = n > 1 ? Math.sqrt(deltas.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1)) : null;
  const s = own === null ? spread : spread === null ? own : Math.max(own, spread);
  if (s === null) return (mean * n) / (n + 1);
  return Math.sign(mean) * Math.max(0, Math.abs(mean) - (k * s) / Math.sqrt(n));
}

/** What gene effects read of each experiment: all on the archive's summaries (no body read). */
export type EffectSource = Pick<ExperimentSummary, "id" | "parentId" | "change" | "fitness" | "fitnessBand">;

/** Per gene-value effects over every finished single-gene mutation in the archive. */
export function geneEffects(experiments: readonly EffectSource[]): Map<string, GeneEffect> {
  const byId = new Map(experiments.map((e) => [e.id, e]));
  const acc = new Map<string, { deltas: number[]; noise: (number | null)[]; verdicts: Record<NoiseVerdict, number> }>();
  for (const child of experiments) {
    const parent = child.parentId ? byId.get(child.parentId) : undefined;
    const change = child.change as { gene?: string; to?: unknown } | null;
    if (!parent || !change?.gene || child.fitness === null || parent.fitness === null) continue;
    const key = prefKey(change.gene as GeneName, change.to);
    const a = acc.get(key) ?? { deltas: [] as number[], noise: [] as (number | null)[], verdicts: { better: 0, worse: 0, "within noise": 0 } };
    const judged = judgeFitness({ value: child.fitness, band: child.fitnessBand }, { value: parent.fitness, band: parent.fitnessBand });
    a.deltas.push(judged.difference);
    a.noise.push(judged.floor);
    a.verdicts[judged.verdict] += 1;
    acc.set(key, a);
  }
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return new Map([...acc].map(([key, a]) => [key, { key, n: a.deltas.length, fitness: mean(a.deltas), verdicts: a.verdicts, weight: leadWeight(a.deltas, a.noise) }]));
}

/** What the proposer reads: each gene value's lead weight (noise-shrunk effect, in fitness units). */
export function preferencesFrom(effects: Map<string, GeneEffect>): Preferences {
  const prefs: Preferences = {};
  for (const e of effects.values()) prefs[e.key] = e.weight;
  return prefs;
}

export interface Analysis {
  analysis: string;
  experience: string;
}

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(4)}`;

/** The fitness verdict in words, for the experience note and the analysis. */
function fitnessWords(j: Judged): string {
  const noise = j.band === null ? "no noise band" : `band ±${j.band.toFixed(4)}`;
  const how = j.verdict === "better" ? "helped" : j.verdict === "worse" ? "hurt" : "was within noise (not a lead)";
  return `${how} (fitness ${signed(j.difference)}, ${noise})`;
}

/**
 * Compares one finished experiment with its parent, siblings and the baseline; Markdown out. `baseline`: the
 * baseline's metrics (means) with "<metric>:std" (the noise floor) and "<metric>:n" entries.
 */
export function analyse(exp: Experiment, parent: Experiment | null, siblings: readonly Experiment[], baselineMetrics: Record<string, number> | null): Analysis {
  const mine = finalMetrics(exp);
  const lines: string[] = [`## ${exp.name}`];
  const change = exp.change as { gene?: string; from?: unknown; to?: unknown } | null;
  if (exp.status !== "done") {
    lines.push(`Stopped: ${exp.reason ?? exp.status}.`);
    const what = change?.gene ? `Setting ${change.gene} to ${String(change.to)}` : "This design";
    return { analysis: lines.join("\n\n"), experience: `${what} was ${exp.status}: ${exp.reason ?? "no reason recorded"}.` };
  }
  const n = samplesOf(exp);
  const floor = (m: string) => floorOf(baselineMetrics, m);
  const moves: string[] = [];
  if (parent) {
    const theirs = finalMetrics(parent);
    const rows = Object.keys(mine).filter((m) => theirs[m] !== undefined).map((m) => {
      const j = judgeMetric(m, mine[m]!, theirs[m]!, floor(m), n, samplesOf(parent));
      if (j.verdict !== "within noise") moves.push(`${m} ${signed(j.difference)} (${j.verdict}, band ±${j.band!.toFixed(4)})`);
      return `| ${m} | ${theirs[m]!.toFixed(4)} | ${mine[m]!.toFixed(4)} | ${signed(j.difference)} | ${j.band === null ? "-" : `±${j.band.toFixed(4)}`} | ${j.verdict} |`;
    });
    const what = change?.gene ? `Changed **${change.gene}** from \`${String(change.from)}\` to \`${String(change.to)}\`.` : `Compared with parent ${parent.name}.`;
    lines.push(what, "| metric | parent | this | change | noise band | verdict |\n|---|---|---|---|---|---|\n" + rows.join("\n"));
    if (exp.fitness && parent.fitness) lines.push(`Fitness ${exp.fitness.value.toFixed(4)} vs parent ${parent.fitness.value.toFixed(4)}: ${describeJudged(judgeFitness(exp.fitness, parent.fitness))}.`);
  }
  if (baselineMetrics) {
    const vs = Object.keys(mine).filter((m) => baselineMetrics[m] !== undefined)
      .map((m) => `${m} ${describeJudged(judgeMetric(m, mine[m]!, baselineMetrics[m]!, floor(m), n, baselineMetrics[`${m}:n`] ?? 1))}`);
    if (vs.length) lines.push(`Against the baseline (noise floor = its std over ${baselineMetrics["score:n"] ?? baselineMetrics["eval_loss:n"] ?? 1} seeds): ${vs.join("; ")}.`);
  }
  const ranked = [...siblings, exp].filter((s) => s.fitness).sort((a, b) => b.fitness!.value - a.fitness!.value);
  if (ranked.length > 1 && exp.fitness) {
    const rank = ranked.findIndex((s) => s.id === exp.id);
    const rival = rank === 0 ? ranked[1]! : ranked[0]!;
    const j = judgeFitness(exp.fitness, rival.fitness!);
    lines.push(`Rank ${rank + 1} of ${ranked.length} among its parent's children; vs ${rank === 0 ? "the runner-up" : "the best"} ${rival.id} (${rival.name}): ${describeJudged(j)}.`);
  }
  const judged = exp.fitness && parent?.fitness ? judgeFitness(exp.fitness, parent.fitness) : null;
  const verdict = judged === null ? "had no comparable parent" : fitnessWords(judged);
  const subject = change?.gene ? `Setting ${change.gene} to ${String(change.to)} (from ${String(change.from)})` : exp.name;
  const detail = moves.length ? `; ${moves.join(", ")}` : parent ? "; no metric moved beyond the noise floor" : "";
  return { analysis: lines.join("\n\n"), experience: `${subject} ${verdict}${detail}.` };
}
