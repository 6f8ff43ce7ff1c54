/**
 * The text gate's judge (DESIGN §2.3, issue 7): the plan's BM25 neighbours among archived motivations, then the
 * LLM's verdict on them. A failed call is a value (verdict "unchecked": the plan goes ahead), never a throw.
 */
import type { ExperimentSummary } from "../contracts/experiment.ts";
import type { AgentsConfig } from "../contracts/agents.ts";
import { clip } from "../analyst/describe.ts";
import type { CallContext, LlmClient, StructuredOutcome } from "../llm/client.ts";
import { NoveltyReply } from "../llm/replies.ts";
import type { MotivationIndex, SimilarMotivation } from "./motivations.ts";

/** What the judge is shown of an archived neighbour besides its motivation (the archive's summaries have it). */
export type NoveltyNeighbour = Pick<ExperimentSummary, "id" | "name" | "status" | "fitness">;

export interface NoveltyRecord {
  /** unchecked: the LLM verdict was off or failed; the plan went ahead. */
  verdict: "novel" | "repeated" | "unchecked";
  similar: SimilarMotivation[];
  similarTo: string[];
  reason: string;
}

/** A plan as the judge reads it. */
export interface PlanText {
  name: string;
  motivation: string;
  design: string;
}

export interface NoveltyJudge {
  client: LlmClient;
  config: AgentsConfig["novelty"];
  /** The call is logged under this experiment, whose own motivation is never its neighbour. */
  call: CallContext & { experimentId: string };
  /** Reported when the judge gave no usable reply. */
  onFailure: (out: Extract<StructuredOutcome<unknown>, { ok: false }>) => void;
}

export async function judgeNovelty(
  motivations: MotivationIndex, judge: NoveltyJudge, plan: PlanText, byId: ReadonlyMap<string, NoveltyNeighbour>,
): Promise<NoveltyRecord> {
  const { config } = judge;
  const similar = motivations.search(`${plan.motivation}\n${plan.design}`, config.k, new Set([judge.call.experimentId]));
  if (similar.length === 0) return { verdict: "novel", similar, similarTo: [], reason: "no archived motivation shares its terms" };
  if (!config.llm_check) return { verdict: "unchecked", similar, similarTo: [], reason: "LLM novelty check off (agents.novelty.llm_check)" };
  const shown = similar.map((s) => {
    const e = byId.get(s.id);
    const head = e ? `### [${e.id}] ${e.name} (${e.status}${e.fitness !== null ? `, fitness ${e.fitness.toFixed(4)}` : ""})` : `### [${s.id}]`;
    return `${head}\n${clip(motivations.text(s.id) ?? "", 1200)}`;
  });
  const out = await judge.client.callStructured("novelty", "novelty", {
    candidate: `### ${plan.name}\nMotivation: ${plan.motivation}\nDesign: ${plan.design}`,
    similar: shown.join("\n\n"),
  }, NoveltyReply, judge.call);
  if (!out.ok) {
    judge.onFailure(out);
    return { verdict: "unchecked", similar, similarTo: [], reason: `novelty check failed: ${out.message}` };
  }
  const known = new Set(similar.map((s) => s.id));
  const similarTo = out.value.similar_to.filter((id) => known.has(id));
  return { verdict: out.value.verdict, similar, similarTo: out.value.verdict === "repeated" && similarTo.length === 0 ? [similar[0]!.id] : similarTo, reason: out.value.reason };
}
