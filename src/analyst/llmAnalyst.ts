/**
 * The LLM analyst, summariser and judge (DESIGN §2.7, issue 7). The analyst writes ASI-Arch's five-part
 * analysis against the parent, siblings and baseline; every claim resting on another experiment or a cognition
 * entry cites it ([e000042], [cg0012]) and citations that resolve to nothing are flagged on the record (grounded
 * analysis, after ResearcherBench). The summariser distils the experience note the next proposals read; the
 * judge's scores become the fitness's judge term. Model failures come back as values.
 */
import type { Experiment } from "../contracts/experiment.ts";
import type { Archive } from "../archive/archive.ts";
import type { CognitionBase } from "../cognition/base.ts";
import { formatCognition } from "../cognition/base.ts";
import type { CallContext, LlmClient } from "../llm/client.ts";
import { AnalystReply, judgeScore, JudgeReply, SummariserReply, unresolvedCitations } from "../llm/replies.ts";
import { clip, describeExperiment } from "./describe.ts";

export type AgentResult<T> = { ok: true; value: T } | { ok: false; kind: string; message: string };

export type AnalystArchive = Pick<Archive, "readText" | "readCode" | "diff" | "leaderboard">;

/** The prompt text the analyst and judge read about one finished experiment. */
export interface AnalystInputs {
  experiment: string;
  parent: string;
  siblings: string;
  baseline: string;
  cognition: string;
  codeDiff: string;
  code: string;
  leaderboard: string;
}

export async function analystInputs(
  archive: AnalystArchive, cognition: CognitionBase, exp: Experiment, parent: Experiment | null,
  siblings: readonly Experiment[], baseline: Record<string, number> | null, cognitionK: number,
): Promise<AnalystInputs> {
  const texts = async (e: Experiment) => ({
    motivation: await archive.readText(e.id, "motivation"),
    design: await archive.readText(e.id, "design"),
  });
  const mine = await texts(exp);
  const hits = cognitionK > 0 ? cognition.search([mine.motivation, mine.design].filter(Boolean).join("\n") || exp.name, cognitionK) : [];
  const code = exp.codeHash ? await archive.readCode(exp.codeHash).catch(() => "") : "";
  const diff = parent?.codeHash && exp.codeHash ? await archive.diff(parent.id, exp.id).catch(() => "") : "";
  const parentText = parent
    ? describeExperiment(parent, { motivation: await archive.readText(parent.id, "motivation"), experience: await archive.readText(parent.id, "experience") })
    : "(none: a seed design)";
  const board = archive.leaderboard({ sortBy: "fitness", limit: 10, status: "done" });
  return {
    experiment: describeExperiment(exp, mine, { textChars: 4000 }),
    parent: parentText,
    siblings: siblings.length ? siblings.slice(0, 6).map((s) => describeExperiment(s, {})).join("\n\n") : "(none)",
    baseline: baseline
      ? `The baseline layer (DeltaNet), trained once under the same stage config: ${Object.entries(baseline).filter(([k]) => !k.includes(":")).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(", ")}`
      : "(no baseline numbers: the baseline run failed)",
    cognition: formatCognition(hits),
    codeDiff: diff.trim() ? clip(diff, 12_000) : "(no parent code to compare with)",
    code: clip(code, 16_000),
    leaderboard: board.length ? board.map((e, i) => `${i + 1}. [${e.id}] ${e.name} fitness ${e.fitness!.value.toFixed(4)}`).join("\n") : "(empty)",
  };
}

export async function judgeWithLlm(client: LlmClient, inputs: AnalystInputs, ctx: CallContext): Promise<AgentResult<{ score: number; reply: JudgeReply }>> {
  const out = await client.callStructured("judge", "judge", {
    experiment: inputs.experiment, parent: inputs.parent, baseline: inputs.baseline, code: inputs.code, leaderboard: inputs.leaderboard,
  }, JudgeReply, ctx);
  if (!out.ok) return { ok: false, kind: out.kind, message: out.message };
  return { ok: true, value: { score: judgeScore(out.value), reply: out.value } };
}

export interface LlmAnalysis {
  /** The five parts as Markdown, with the citations and any flagged ones at the end. */
  analysis: string;
  synthesis: string;
  citations: string[];
  /** Cited ids that name no experiment or cognition entry. */
  flagged: string[];
}

export async function analyseWithLlm(client: LlmClient, inputs: AnalystInputs, known: (id: string) => boolean, ctx: CallContext): Promise<AgentResult<LlmAnalysis>> {
  const out = await client.callStructured("analyst", "analyst", {
    experiment: inputs.experiment, parent: inputs.parent, siblings: inputs.siblings, baseline: inputs.baseline,
    cognition: inputs.cognition, code_diff: inputs.codeDiff,
  }, AnalystReply, ctx);
  if (!out.ok) return { ok: false, kind: out.kind, message: out.message };
  const r = out.value;
  const flagged = unresolvedCitations(r, known);
  const sections: [string, string][] = [
    ["Design evaluation", r.design_evaluation], ["Results analysis", r.results_analysis],
    ["Expectation vs reality", r.expectation_vs_reality], ["Theoretical explanation", r.theoretical_explanation],
    ["Synthesis", r.synthesis],
  ];
  const text = sections.map(([title, body]) => `## ${title}\n\n${body.trim()}`);
  if (r.citations.length) text.push(`Citations: ${r.citations.map((c) => `[${c}]`).join(" ")}`);
  if (flagged.length) text.push(`**Unresolved citations** (no such experiment or cognition entry): ${flagged.map((c) => `[${c}]`).join(" ")}`);
  return { ok: true, value: { analysis: text.join("\n\n"), synthesis: r.synthesis.trim(), citations: r.citations, flagged } };
}

export async function summariseWithLlm(client: LlmClient, experiment: string, analysis: string, ctx: CallContext): Promise<AgentResult<string>> {
  const out = await client.callStructured("summariser", "summariser", { experiment, analysis }, SummariserReply, ctx);
  if (!out.ok) return { ok: false, kind: out.kind, message: out.message };
  return { ok: true, value: out.value.experience.trim() };
}
