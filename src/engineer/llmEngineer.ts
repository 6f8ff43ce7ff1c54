/**
 * The LLM engineer and debugger (DESIGN §2.4, issue 7). The engineer writes the candidate file for a code-mode
 * plan, starting from the parent's code; the debugger gets a failed stage's error kind, measurements and log tail
 * with the code, and returns a fixed file. Both return values, never throw for model failures (BudgetExceeded and
 * aborts do throw). The campaign stores every file content-addressed and bounds the repair attempts.
 */
import type { RepairAttempt, StageSummary } from "../contracts/experiment.ts";
import type { CallContext, LlmClient } from "../llm/client.ts";
import { DebuggerReply, EngineerReply, stripCodeFence } from "../llm/replies.ts";

export type AgentResult<T> = { ok: true; value: T } | { ok: false; kind: string; message: string };

export interface EngineerTask {
  name: string;
  motivation: string;
  design: string;
  /** The parent's layer file; null for a first design (the engineer then writes from the contract alone). */
  parentCode: string | null;
}

export async function implementWithLlm(client: LlmClient, task: EngineerTask, ctx: CallContext): Promise<AgentResult<{ code: string; notes: string }>> {
  const out = await client.callStructured("engineer", "engineer", {
    name: task.name, motivation: task.motivation, design: task.design,
    parent_code: task.parentCode ?? "# (no parent code: write the layer from the contract below)",
  }, EngineerReply, ctx);
  if (!out.ok) return { ok: false, kind: out.kind, message: out.message };
  return { ok: true, value: { code: stripCodeFence(out.value.code), notes: out.value.notes } };
}

export interface DebugTask {
  name: string;
  motivation: string;
  stage: string;
  summary: StageSummary;
  /** The failed run's error tail (from its result file), or its log's end. */
  logTail: string;
  code: string;
  previous: readonly RepairAttempt[];
}

export async function repairWithLlm(client: LlmClient, task: DebugTask, ctx: CallContext): Promise<AgentResult<{ code: string; diagnosis: string }>> {
  const out = await client.callStructured("debugger", "debugger", {
    name: task.name,
    motivation: task.motivation,
    error_kind: task.summary.errorKind ?? task.summary.status,
    error_message: task.summary.message ?? "(no message)",
    error_numbers: errorNumbers(task.stage, task.summary),
    log_tail: task.logTail.trim() || "(empty)",
    code: task.code,
    previous_attempts: task.previous.length
      ? task.previous.map((r) => `- attempt ${r.attempt} after ${r.stage} ${r.errorKind}: ${r.diagnosis ?? "no diagnosis"}`).join("\n")
      : "(none)",
  }, DebuggerReply, ctx);
  if (!out.ok) return { ok: false, kind: out.kind, message: out.message };
  return { ok: true, value: { code: stripCodeFence(out.value.code), diagnosis: out.value.diagnosis.trim() } };
}

/** The failed stage's measurements: each failed probe's numbers, the stage's metrics, params and seconds. */
export function errorNumbers(stage: string, s: StageSummary): string {
  const parts: string[] = [`stage ${stage}, status ${s.status}`];
  for (const [name, verdict] of Object.entries(s.probes ?? {})) {
    if (verdict.passed) continue;
    const numbers = Object.entries(verdict).filter(([k, v]) => k !== "passed" && v !== null && typeof v !== "object").map(([k, v]) => `${k}=${String(v)}`);
    parts.push(`probe ${name} failed${numbers.length ? `: ${numbers.join(", ")}` : ""}`);
  }
  const metrics = Object.entries(s.metrics).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
  if (metrics.length) parts.push(`metrics: ${metrics.join(", ")}`);
  if (s.params !== null) parts.push(`mixer params ${s.params}`);
  parts.push(`ran ${s.wallS.toFixed(1)} s`);
  return parts.join("; ");
}
