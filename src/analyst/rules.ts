/**
 * The rule-based analyst (DESIGN §2.7): no LLM. Offline mutations change one gene, so parent -> child is an
 * ablation: it reports which change moved which metric, and aggregates those effects across the archive into
 * the experience the proposer reads. Pure functions over records.
 */
import type { Experiment } from "../contracts/experiment.ts";
import { prefKey, type GeneName, type Preferences } from "../contracts/genome.ts";

/** Metrics where lower is better; everything else is higher-is-better. */
export function lowerIsBetter(metric: string): boolean {
  return /loss|bpb|ppl|perplexity/.test(metric);
}

/** The metrics of an experiment's last stage that ran to completion. */
export function finalMetrics(exp: Experiment): Record<string, number> {
  const stages = Object.values(exp.stages).filter((s) => s.status === "ok");
  const last = stages[stages.length - 1];
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(last?.metrics ?? {})) if (v !== null && Number.isFinite(v)) out[k] = v;
  return out;
}

export interface GeneEffect {
  key: string;
  n: number;
  /** Mean child-minus-parent fitness over the single-gene changes to this value. */
  fitness: number;
  /** Mean child-minus-parent change per metric (signed as measured). */
  metrics: Record<string, number>;
}

/** Per gene-value effects over every finished single-gene mutation in the archive. */
export function geneEffects(experiments: readonly Experiment[]): Map<string, GeneEffect> {
  const byId = new Map(experiments.map((e) => [e.id, e]));
  const sums = new Map<string, { n: number; fitness: number; metrics: Map<string, { n: number; sum: number }> }>();
  for (const child of experiments) {
    const parent = child.parentId ? byId.get(child.parentId) : undefined;
    const change = child.change as { gene?: string; to?: unknown } | null;
    if (!parent || !change?.gene || child.fitness === null || parent.fitness === null) continue;
    const key = prefKey(change.gene as GeneName, change.to);
    const acc = sums.get(key) ?? { n: 0, fitness: 0, metrics: new Map() };
    acc.n += 1;
    acc.fitness += child.fitness.value - parent.fitness.value;
    const before = finalMetrics(parent);
    for (const [metric, value] of Object.entries(finalMetrics(child))) {
      if (before[metric] === undefined) continue;
      const m = acc.metrics.get(metric) ?? { n: 0, sum: 0 };
      m.n += 1;
      m.sum += value - before[metric]!;
      acc.metrics.set(metric, m);
    }
    sums.set(key, acc);
  }
  return new Map([...sums].map(([key, acc]) => [key, {
    key,
    n: acc.n,
    fitness: acc.fitness / acc.n,
    metrics: Object.fromEntries([...acc.metrics].map(([m, s]) => [m, s.sum / s.n])),
  }]));
}

/**
 * What the proposer reads: the measured fitness effect per gene value, shrunk toward 0 when it rests on few
 * observations (n / (n + 1)), so a single lucky result does not dominate.
 */
export function preferencesFrom(effects: Map<string, GeneEffect>): Preferences {
  const prefs: Preferences = {};
  for (const e of effects.values()) prefs[e.key] = (e.fitness * e.n) / (e.n + 1);
  return prefs;
}

export interface Analysis {
  analysis: string;
  experience: string;
}

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(4)}`;

/** Compares one finished experiment with its parent, siblings and the baseline; Markdown out. */
export function analyse(exp: Experiment, parent: Experiment | null, siblings: readonly Experiment[], baselineMetrics: Record<string, number> | null): Analysis {
  const mine = finalMetrics(exp);
  const lines: string[] = [`## ${exp.name}`];
  const change = exp.change as { gene?: string; from?: unknown; to?: unknown } | null;
  if (exp.status !== "done") {
    lines.push(`Stopped: ${exp.reason ?? exp.status}.`);
    const what = change?.gene ? `Setting ${change.gene} to ${String(change.to)}` : "This design";
    return { analysis: lines.join("\n\n"), experience: `${what} was ${exp.status}: ${exp.reason ?? "no reason recorded"}.` };
  }
  const moves: string[] = [];
  if (parent) {
    const theirs = finalMetrics(parent);
    const rows = Object.keys(mine).filter((m) => theirs[m] !== undefined).map((m) => {
      const delta = mine[m]! - theirs[m]!;
      const better = lowerIsBetter(m) ? delta < 0 : delta > 0;
      if (Math.abs(delta) > 1e-9) moves.push(`${m} ${signed(delta)} (${better ? "better" : "worse"})`);
      return `| ${m} | ${theirs[m]!.toFixed(4)} | ${mine[m]!.toFixed(4)} | ${signed(delta)} |`;
    });
    const what = change?.gene ? `Changed **${change.gene}** from \`${String(change.from)}\` to \`${String(change.to)}\`.` : `Compared with parent ${parent.name}.`;
    lines.push(what, "| metric | parent | this | change |\n|---|---|---|---|\n" + rows.join("\n"));
    if (exp.fitness && parent.fitness) lines.push(`Fitness ${exp.fitness.value.toFixed(4)} vs parent ${parent.fitness.value.toFixed(4)} (${signed(exp.fitness.value - parent.fitness.value)}).`);
  }
  if (baselineMetrics) {
    const vs = Object.keys(mine).filter((m) => baselineMetrics[m] !== undefined).map((m) => `${m} ${signed(mine[m]! - baselineMetrics[m]!)}`);
    if (vs.length) lines.push(`Against the baseline: ${vs.join(", ")}.`);
  }
  const ranked = [...siblings, exp].filter((s) => s.fitness).sort((a, b) => b.fitness!.value - a.fitness!.value);
  if (ranked.length > 1) lines.push(`Rank ${ranked.findIndex((s) => s.id === exp.id) + 1} of ${ranked.length} among its parent's children.`);
  const gain = exp.fitness && parent?.fitness ? exp.fitness.value - parent.fitness.value : null;
  const verdict = gain === null ? "had no comparable parent" : gain > 0 ? `helped (fitness ${signed(gain)})` : `did not help (fitness ${signed(gain)})`;
  const subject = change?.gene ? `Setting ${change.gene} to ${String(change.to)} (from ${String(change.from)})` : exp.name;
  const experience = `${subject} ${verdict}${moves.length ? `; ${moves.join(", ")}` : ""}.`;
  return { analysis: lines.join("\n\n"), experience };
}
