/** `archlab show <id> --agents`: an experiment's agent calls (runs/<id>/agents.jsonl) as a table. Pure. */
import type { AgentLogLine } from "../llm/log.ts";
import { truncate } from "./present.ts";

export function renderAgentLog(id: string, lines: readonly AgentLogLine[], logFile: string): string {
  if (lines.length === 0) return `${id}: no agent calls logged (${logFile})`;
  const out = [`${id}: ${lines.length} agent call${lines.length === 1 ? "" : "s"} · ${logFile}`];
  const total = lines.reduce((t, l) => ({ in: t.in + l.tokensIn, out: t.out + l.tokensOut, dollars: t.dollars + l.dollars, ms: t.ms + l.latencyMs }), { in: 0, out: 0, dollars: 0, ms: 0 });
  out.push(`tokens ${total.in} in / ${total.out} out · $${total.dollars.toFixed(4)} · ${(total.ms / 1000).toFixed(1)} s`, "");
  out.push(`${"at".padEnd(20)}${"role".padEnd(11)}${"prompt".padEnd(18)}${"try".padEnd(5)}${"outcome".padEnd(17)}${"tokens in/out".padEnd(15)}${"ms".padStart(7)}  reply`);
  for (const l of lines) {
    const reply = l.outcome === "ok" || l.reply ? oneLine(l.reply ?? "") : "";
    const detail = l.error ? `${oneLine(l.error)}${reply ? ` · ${reply}` : ""}` : reply;
    out.push([
      l.at.replace("T", " ").slice(0, 19).padEnd(20),
      l.role.padEnd(11),
      l.promptHash.padEnd(18),
      `${l.attempt}/${l.maxAttempts}`.padEnd(5),
      l.outcome.padEnd(17),
      `${l.tokensIn}/${l.tokensOut}`.padEnd(15),
      String(Math.round(l.latencyMs)).padStart(7),
      `  ${truncate(detail, 100)}`,
    ].join(""));
  }
  out.push("", `prompts as sent: ${logFile.replace(/agents\.jsonl$/, "prompts/<hash>.md")}`);
  return out.join("\n");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
