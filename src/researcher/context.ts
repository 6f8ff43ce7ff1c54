/**
 * What the LLM agents read about the archive (issue 7): experiments as prompt text, and the researcher's curated
 * exemplars (after LIMI: a few pinned or top-ranked entries with their analyses, within a token budget, rather
 * than everything that fits). Pure functions over records and texts the caller has read.
 */
import type { Experiment, Note } from "../contracts/experiment.ts";
import { finalMetrics } from "../analyst/rules.ts";
import { GENE_NAMES, GENES, GenomeSchema } from "./genome.ts";

/** Tokens, roughly: about 4 characters each. */
export const approxTokens = (text: string) => Math.ceil(text.length / 4);

/** A text cut to `max` characters, saying how much was left out. */
export function clip(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : `${t.slice(0, max).trimEnd()} … (${t.length - max} more characters)`;
}

export interface ExperimentTexts {
  motivation?: string | null;
  design?: string | null;
  analysis?: string | null;
  experience?: string | null;
}

const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4));

/** One experiment as prompt text: id, name, lineage, status, fitness, per-task metrics, probes, and its texts. */
export function describeExperiment(e: Experiment, texts: ExperimentTexts = {}, opts: { textChars?: number } = {}): string {
  const max = opts.textChars ?? 1500;
  const lines = [`### [${e.id}] ${e.name}`];
  const facts = [`status ${e.status}${e.reason ? ` (${e.reason})` : ""}`, `proposer ${e.proposer}${e.mode ? ` (${e.mode} mode)` : ""}`];
  if (e.parentId) facts.push(`parent [${e.parentId}]`);
  if (e.fitness) facts.push(`fitness ${e.fitness.value.toFixed(4)} (${Object.entries(e.fitness.terms).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ")})`);
  lines.push(facts.join(" · "));
  const metrics = Object.entries(finalMetrics(e)).filter(([k]) => !k.includes(":"));
  if (metrics.length) lines.push(`Results: ${metrics.map(([k, v]) => `${k} ${num(v)}`).join(", ")}`);
  const probe = e.stages.probe;
  if (probe?.probes) {
    const verdicts = Object.entries(probe.probes).map(([name, v]) => {
      const extra = Object.entries(v).filter(([k, x]) => k !== "passed" && typeof x === "number").slice(0, 2).map(([k, x]) => `${k}=${num(x as number)}`);
      return `${name} ${v.passed ? "pass" : "FAIL"}${extra.length ? ` (${extra.join(", ")})` : ""}`;
    });
    lines.push(`Probes: ${verdicts.join("; ")}${probe.params !== null ? `; mixer params ${probe.params}` : ""}`);
  }
  if (e.genome && GenomeSchema.safeParse(e.genome).success) lines.push(`Genome: ${GENE_NAMES.map((g) => `${g}=${String(e.genome![g])}`).join(", ")}`);
  if (e.change) lines.push(`Change from parent: ${JSON.stringify(e.change)}`);
  if (e.repairs?.length) lines.push(`Repaired by the debugger ${e.repairs.length} time(s): ${e.repairs.map((r) => r.errorKind).join(", ")}`);
  for (const [kind, text] of Object.entries(texts)) {
    if (text && text.trim()) lines.push(`${kind[0]!.toUpperCase()}${kind.slice(1)}: ${clip(text, max)}`);
  }
  return lines.join("\n");
}

/** The genome design space as the researcher sees it, with the parent's values marked. */
export function genomeSpace(parentGenome: Record<string, unknown> | null): string {
  const lines = GENE_NAMES.map((g) => {
    const values = (GENES[g] as readonly (string | number)[]).map((v) => (parentGenome?.[g] === v ? `**${v}** (parent)` : String(v)));
    return `- \`${g}\`: ${values.join(" | ")}${GENE_HELP[g] ? ` — ${GENE_HELP[g]}` : ""}`;
  });
  if (!parentGenome) lines.push("", "The parent is free-form code without a genome: genome mode is not available for it.");
  return lines.join("\n");
}

const GENE_HELP: Record<string, string> = {
  update: "state update rule: additive (linear attention), fixed per-head decay (RetNet), data-dependent decay, per-dimension decay (GLA), delta rule (DeltaNet), gated delta rule",
  feature_map: "applied to q and k",
  qk_norm: "normalisation of q and k (delta rules always use l2)",
  short_conv: "depthwise causal short convolution on q, k, v: kernel size, 0 = none",
  output_gate: "gate on the read-out",
  output_norm: "per-head normalisation of the read-out",
  paths: "2 adds a fast-decaying linear-attention path mixed in by a learned per-head gate",
  heads: "heads relative to the stage's num_heads",
  expand_v: "value expansion (state size grows with it)",
  chunk_size: "chunk length of the chunked kernels",
};

export interface ExemplarCandidate {
  id: string;
  /** Why it is offered: a human pinned it, it ranks high, or the sampling policy picked it. */
  source: "pinned" | "top" | "reference";
  /** The entry with its code, and without (used when the full one does not fit). */
  full: string;
  brief: string;
}

/**
 * Picks exemplars in the order given (pinned, then top-ranked, then sampled references), at most `maxCount`,
 * within `maxTokens`: each goes in with its code when that fits, else without, else not at all.
 */
export function curateExemplars(candidates: readonly ExemplarCandidate[], maxCount: number, maxTokens: number): { id: string; source: ExemplarCandidate["source"]; text: string }[] {
  const out: { id: string; source: ExemplarCandidate["source"]; text: string }[] = [];
  const seen = new Set<string>();
  let left = maxTokens;
  for (const c of candidates) {
    if (out.length >= maxCount) break;
    if (seen.has(c.id)) continue;
    const text = approxTokens(c.full) <= left ? c.full : approxTokens(c.brief) <= left ? c.brief : null;
    if (text === null) continue;
    seen.add(c.id);
    left -= approxTokens(text);
    out.push({ id: c.id, source: c.source, text });
  }
  return out;
}

/** Human notes the researcher reads: every pinned note, and the notes on the experiments it is shown. */
export function relevantNotes(notes: readonly Note[], shown: ReadonlySet<string>, names: (id: string) => string | undefined): string {
  const picked = notes.filter((n) => n.pinned || shown.has(n.experimentId));
  picked.sort((a, b) => Number(b.pinned) - Number(a.pinned) || a.at.localeCompare(b.at));
  if (picked.length === 0) return "(none)";
  return picked.map((n) => `- ${n.pinned ? "[pinned] " : ""}on [${n.experimentId}]${names(n.experimentId) ? ` ${names(n.experimentId)}` : ""}: ${n.text.trim()}`).join("\n");
}
