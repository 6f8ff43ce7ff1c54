/**
 * The replies the shipped prompts (prompts/*.md) ask for, as zod schemas: pass one to callStructured. The field
 * names here and in the templates must agree (replies.test.ts checks the templates mention every field).
 */
import { z } from "zod";

const text = (min: number) => z.string().trim().min(min);

/** The researcher's plan. In genome mode `genome` is a full genome (one value per gene); in code mode null
 *  and the engineer implements `design`. */
export const ResearcherReply = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{2,59}$/, "3-60 characters: a letter, then letters, digits, '_' or '-'"),
  motivation: text(40),
  design: text(20),
  genome: z.record(z.string(), z.union([z.string(), z.number()])).nullable(),
});
export type ResearcherReply = z.infer<typeof ResearcherReply>;

export const NoveltyReply = z.object({
  verdict: z.enum(["novel", "repeated"]),
  /** Ids of the archived experiments the candidate repeats (empty when novel). */
  similar_to: z.array(z.string()),
  reason: text(1),
});
export type NoveltyReply = z.infer<typeof NoveltyReply>;

export const EngineerReply = z.object({
  /** The complete layer file. */
  code: text(1),
  notes: z.string(),
});
export type EngineerReply = z.infer<typeof EngineerReply>;

export const DebuggerReply = z.object({
  diagnosis: text(1),
  /** The complete fixed layer file. */
  code: text(1),
});
export type DebuggerReply = z.infer<typeof DebuggerReply>;

/** ASI-Arch's five-part analysis; claims that rest on an experiment or a cognition entry cite it as [id]. */
export const AnalystReply = z.object({
  design_evaluation: text(1),
  results_analysis: text(1),
  expectation_vs_reality: text(1),
  theoretical_explanation: text(1),
  synthesis: text(1),
  /** Every id cited in the text above. */
  citations: z.array(z.string()),
});
export type AnalystReply = z.infer<typeof AnalystReply>;

const unit = z.number().min(0).max(1);
export const JudgeReply = z.object({
  performance: unit,
  innovation: unit,
  complexity: unit,
  rationale: text(1),
});
export type JudgeReply = z.infer<typeof JudgeReply>;

export const SummariserReply = z.object({
  /** One paragraph the next proposals read. */
  experience: z.string().trim().min(20).max(2000),
});
export type SummariserReply = z.infer<typeof SummariserReply>;

/** ASI-Arch's judge weights: performance .30, innovation .25, complexity .45. */
export const JUDGE_WEIGHTS = { performance: 0.3, innovation: 0.25, complexity: 0.45 } as const;

/** The judge's score in [0, 1]: the fitness's judge term. */
export function judgeScore(reply: JudgeReply, weights: { performance: number; innovation: number; complexity: number } = JUDGE_WEIGHTS): number {
  const total = weights.performance + weights.innovation + weights.complexity;
  return (weights.performance * reply.performance + weights.innovation * reply.innovation + weights.complexity * reply.complexity) / total;
}

const CITATION = /\[((?:e\d{6}|cg\d{4,}))\]/g;

/** The ids cited as [e000042] or [cg0012] in a text, each once, in order. */
export function findCitations(text: string): string[] {
  return [...new Set([...text.matchAll(CITATION)].map((m) => m[1]!))];
}

/** Cited ids (in the analysis text and its citations list) that name nothing known. */
export function unresolvedCitations(reply: AnalystReply, known: (id: string) => boolean): string[] {
  const body = [reply.design_evaluation, reply.results_analysis, reply.expectation_vs_reality, reply.theoretical_explanation, reply.synthesis].join("\n");
  return [...new Set([...findCitations(body), ...reply.citations])].filter((id) => !known(id));
}

/** A layer file without the ``` fence a model may have put around it. */
export function stripCodeFence(code: string): string {
  const fenced = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(code);
  return (fenced ? fenced[1]! : code).replace(/\s+$/, "") + "\n";
}
