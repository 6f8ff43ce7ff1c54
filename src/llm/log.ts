/**
 * Metering and transparency (DESIGN §7, issue 7): every request an agent makes is one LlmUsage (reported to
 * the campaign, which turns it into a ledger entry) and one JSON line in the experiment's agent log (role,
 * prompt hash, reply, tokens, dollars, latency), which `archlab show <id> --agents` reads back. The rendered
 * prompt is kept once per hash beside the log, in prompts/<hash>.md.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { LedgerEntry } from "../contracts/experiment.ts";
import { writeFileAtomicSync } from "../atomic.ts";

/** One request's cost. */
export interface LlmUsage {
  role: string;
  experimentId: string | null;
  model: string;
  prompt: string;
  attempt: number;
  tokensIn: number;
  tokensOut: number;
  /** 0 when the model has no price (then `priced` is false). */
  dollars: number;
  priced: boolean;
  latencyMs: number;
}

/** The ledger entry for one request (Archive.appendLedger adds id and time). */
export function ledgerEntryFor(usage: LlmUsage, campaign: string): Omit<LedgerEntry, "id" | "at"> {
  return {
    campaign,
    experimentId: usage.experimentId,
    kind: "llm",
    role: usage.role,
    tokensIn: usage.tokensIn,
    tokensOut: usage.tokensOut,
    dollars: usage.dollars,
    seconds: usage.latencyMs / 1000,
  };
}

export const CallOutcome = z.enum(["ok", "invalid", "request_rejected", "unavailable", "auth"]);
export type CallOutcome = z.infer<typeof CallOutcome>;

/** One line of an agent log. */
export const AgentLogLine = z.object({
  at: z.string(),
  role: z.string(),
  experimentId: z.string().nullable(),
  /** The template's name, e.g. "researcher". */
  prompt: z.string(),
  /** sha256 (16 hex) of the exact messages sent on the first attempt; the text is in prompts/<hash>.md. */
  promptHash: z.string(),
  model: z.string(),
  method: z.string(),
  attempt: z.number().int().positive(),
  maxAttempts: z.number().int().positive(),
  outcome: CallOutcome,
  /** Why the reply could not be used (validation error, HTTP error). */
  error: z.string().nullable(),
  /** The reply as the model sent it: message content or tool-call arguments. */
  reply: z.string().nullable(),
  tokensIn: z.number().int(),
  tokensOut: z.number().int(),
  dollars: z.number(),
  latencyMs: z.number(),
});
export type AgentLogLine = z.infer<typeof AgentLogLine>;

export function appendAgentLog(file: string, line: AgentLogLine): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(line) + "\n");
}

/** Keeps the rendered prompt once per hash, beside the log. */
export function keepPrompt(logFile: string, hash: string, text: string): string {
  const file = path.join(path.dirname(logFile), "prompts", `${hash}.md`);
  if (!fs.existsSync(file)) writeFileAtomicSync(file, text);
  return file;
}

/** The lines of an agent log (none when the file is missing); a torn or foreign line is skipped. */
export function readAgentLog(file: string): AgentLogLine[] {
  if (!fs.existsSync(file)) return [];
  const lines: AgentLogLine[] = [];
  for (const text of fs.readFileSync(file, "utf8").split("\n")) {
    if (!text.trim()) continue;
    try {
      const parsed = AgentLogLine.safeParse(JSON.parse(text));
      if (parsed.success) lines.push(parsed.data);
    } catch {
      // a line cut short by a crash mid-write
    }
  }
  return lines;
}
