/**
 * The LLM agents' section of a campaign file (`agents:`), read by the researcher, the gate and the campaign:
 * defined here so that none of them imports another's folder for it.
 */
import { z } from "zod";
import { ProposalMode } from "./experiment.ts";

export const AgentsConfig = z.strictObject({
  /** Proposal modes the researcher may use; one is chosen per proposal from each mode's success rate. */
  modes: z.array(ProposalMode).min(1).default(["genome", "code"]),
  /** Debugger repairs per candidate after a probe rejection or a failed run (each attempt archived). */
  debug_attempts: z.number().int().min(0).max(10).default(3),
  novelty: z.strictObject({
    /** Archived motivations (most similar by BM25) shown to the novelty judge. */
    k: z.number().int().positive().default(5),
    /** Plans per proposal: a plan judged a repeat is re-planned with the repeats shown, this many times in all. */
    max_plans: z.number().int().positive().max(10).default(3),
    /** Ask the LLM for a verdict; false: every plan counts as novel (BM25 neighbours are still recorded). */
    llm_check: z.boolean().default(true),
  }).prefault({}),
  context: z.strictObject({
    /** Reference experiments (pinned first, then top-ranked) shown to the researcher with their analyses. */
    exemplars: z.number().int().nonnegative().default(3),
    /** Token budget (about 4 characters a token) for the parent and the exemplars together. */
    max_tokens: z.number().int().positive().default(8000),
    /** Cognition entries retrieved for the parent's weaknesses (and for the analyst). */
    cognition: z.number().int().nonnegative().default(4),
  }).prefault({}),
});
export type AgentsConfig = z.infer<typeof AgentsConfig>;
