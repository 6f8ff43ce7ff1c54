/**
 * What the LLM agents read about the archive (issue 7): experiments as prompt text, and the researcher's curated
 * exemplars (after LIMI: a few pinned or top-ranked entries with their analyses, within a token budget, rather
 * than everything that fits). Pure functions over records and texts the caller has read.
 */
import type { Note } from "../contracts/experiment.ts";
import { approxTokens } from "../analyst/describe.ts";
import { GENE_NAMES, GENES } from "../contracts/genome.ts";

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
