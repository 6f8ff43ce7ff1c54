/**
 * Experiments as prompt text, read by the LLM analyst and the researcher alike. Pure functions over records and
 * texts the caller has read.
 */
import type { Experiment } from "../contracts/experiment.ts";
import { GENE_NAMES, GenomeSchema } from "../contracts/genome.ts";
import { finalMetrics } from "./rules.ts";

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
