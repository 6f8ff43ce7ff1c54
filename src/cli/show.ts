/**
 * `archlab show <id>`: one experiment in full: motivation, analysis, experience, per-stage metrics and probe
 * verdicts, fitness with its inputs and terms, costs, code path, commit, transitions, notes.
 */
import { Command } from "commander";
import type { Experiment, StageSummary } from "../contracts/experiment.ts";
import { DEFAULT_ARCHIVE_DIR, withArchive, type Archive } from "../archive/archive.ts";
import { fmt, formatConfirmation, formatLadder, writeOut } from "./present.ts";
import { formatEarlyStop } from "./format.ts";
import { readAgentLog } from "../llm/log.ts";
import { renderAgentLog } from "./agentLog.ts";
import path from "node:path";

interface ShowOptions {
  archive: string;
  json?: boolean;
  agents?: boolean;
}

/** Texts shown first, in this order; any other kinds follow by name. */
const TEXT_ORDER = ["motivation", "analysis", "experience"];

export function registerShow(program: Command): void {
  program
    .command("show")
    .description("show one experiment: texts, stage results, fitness and its inputs, costs, code, commit, history")
    .argument("<id>", "experiment id, e.g. e000042")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--json", "print the record, its texts and notes as JSON")
    .option("--agents", "print the experiment's LLM agent calls: role, prompt hash, tokens, latency, outcome, reply")
    .action(async (id: string, opts: ShowOptions) => {
      await withArchive(opts.archive, { mode: "read" }, async (archive) => {
        const e = archive.requireExperiment(id);
        if (opts.agents) {
          const logFile = path.join(archive.dir, "runs", id, "agents.jsonl");
          const lines = readAgentLog(logFile);
          writeOut(opts.json ? JSON.stringify(lines, null, 2) : renderAgentLog(id, lines, logFile));
          return;
        }
        const kinds = archive.textKinds(id).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
        const texts: Record<string, string> = {};
        for (const kind of kinds) texts[kind] = (await archive.readText(id, kind)) ?? "";
        const view = {
          experiment: e,
          texts,
          notes: archive.notes(id),
          codePath: e.codeHash ? archive.codePath(e.codeHash) : null,
          tags: await archive.tags(id),
          children: archive.childSummaries(id).map((c) => c.id),
        };
        writeOut(opts.json ? JSON.stringify(view, null, 2) : render(archive, view));
      });
    });
}

function rank(kind: string): number {
  const i = TEXT_ORDER.indexOf(kind);
  return i === -1 ? TEXT_ORDER.length : i;
}

interface View {
  experiment: Experiment;
  texts: Record<string, string>;
  notes: { text: string; pinned: boolean; at: string }[];
  codePath: string | null;
  tags: string[];
  children: string[];
}

function render(archive: Archive, view: View): string {
  const e = view.experiment;
  const parent = e.parentId ? archive.getExperiment(e.parentId) : undefined;
  const out: string[] = [];
  const field = (name: string, value: string) => out.push(`${name.padEnd(12)}${value}`);
  out.push(`${e.id}  ${e.name}`);
  field("status", `${e.status}${e.reason ? ` — ${e.reason}` : ""}`);
  field("proposer", `${e.proposer}${e.mode ? ` (${e.mode} mode)` : ""} · campaign ${e.campaign}`);
  field("parent", parent ? `${parent.id} ${parent.name}` : (e.parentId ?? "none (seed)"));
  if (view.children.length) {
    const more = view.children.length > 12 ? ` (+${view.children.length - 12} more; archlab lineage ${e.id})` : "";
    field("children", view.children.slice(0, 12).join(" ") + more);
  }
  if (e.change) field("change", formatChange(e.change));
  if (e.genomeKey) field("genome", e.genomeKey);
  if (e.fitness) {
    const terms = Object.entries(e.fitness.terms).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ");
    field("fitness", `${fmt(e.fitness.value)}${e.fitness.band == null ? "" : ` ± ${fmt(e.fitness.band)} (noise band)`}${terms ? `  (${terms})` : ""}`);
    const inputs = Object.entries(e.fitness.inputs).map(([k, v]) => `${k}=${fmt(v)}`).join(" ");
    if (inputs) field("", `inputs ${inputs}`);
    field("", `formula ${e.fitness.formula}`);
  } else {
    field("fitness", "-");
  }
  for (const [i, c] of (e.confirmations ?? []).entries()) {
    const [head, ...rest] = formatConfirmation(e.id, c).split("\n");
    field(i === 0 ? "confirmed" : "", head!.slice(e.id.length + 2));
    for (const line of rest) out.push(`${"".padEnd(10)}${line}`);
  }
  if (!e.confirmations?.length && e.status === "done") field("confirmed", `not yet (archlab confirm ${e.id})`);
  out.push(...formatLadder(e));
  const stages = Object.entries(e.stages);
  if (stages.length) {
    out.push("stages");
    for (const [name, stage] of stages) out.push(...formatStage(name, stage));
  }
  const c = e.costs;
  field("costs", `cpu ${fmt(c.cpuSeconds)} s · gpu ${fmt(c.gpuSeconds)} s · llm ${c.llmTokensIn} in / ${c.llmTokensOut} out tokens · $${c.llmDollars.toFixed(4)}`);
  field("code", view.codePath ?? "-");
  for (const r of e.repairs ?? []) {
    field(r.attempt === 1 ? "repairs" : "", `${r.attempt}. after ${r.stage} ${r.errorKind}: ${r.codeHash ? `fixed -> ${r.codeHash.slice(0, 12)}` : "no fix"}${r.diagnosis ? ` · ${r.diagnosis.replace(/\s+/g, " ").slice(0, 100)}` : ""}`);
  }
  if (e.flaggedCitations?.length) field("flagged", `unresolved citations: ${e.flaggedCitations.map((c) => `[${c}]`).join(" ")}`);
  for (const [i, f] of (e.agentFailures ?? []).entries()) field(i === 0 ? "llm fails" : "", `${f.role} ${f.kind}: ${f.message.slice(0, 120)}`);
  if (e.proposer === "llm" || e.costs.llmTokensIn > 0) field("", `agent calls: archlab show ${e.id} --agents`);
  field("commit", e.commit ? `${e.commit}${view.tags.length ? ` (${view.tags.join(", ")})` : ""}` : "-");
  if (e.fingerprint) field("fingerprint", e.fingerprint);
  field("created", `${e.createdAt} · updated ${e.updatedAt}`);
  out.push("transitions");
  for (const t of e.transitions) out.push(`  ${t.at}  ${t.status}${t.note ? `  ${t.note}` : ""}`);
  if (view.notes.length) {
    out.push("notes");
    for (const n of view.notes) out.push(`  ${n.at}${n.pinned ? " [pinned]" : ""}  ${n.text}`);
  }
  for (const [kind, text] of Object.entries(view.texts)) {
    out.push("", `── ${kind} ${"─".repeat(Math.max(0, 60 - kind.length))}`, text.trimEnd());
  }
  return out.join("\n");
}

function formatStage(name: string, s: StageSummary): string[] {
  const head = [`  ${name.padEnd(10)}${s.status}`, `${fmt(s.wallS)} s`];
  if (s.params !== null) head.push(`params ${fmt(s.params)}`);
  if (s.errorKind || s.message) head.push(`${s.errorKind ?? "error"}: ${s.message ?? ""}`.trim());
  const lines = [head.join(" · ")];
  if (s.earlyStop) lines.push(`            ${formatEarlyStop(s.earlyStop)}`);
  const metrics = Object.entries(s.metrics).map(([k, v]) => `${k} ${fmt(v)}`);
  if (metrics.length) lines.push(`            metrics ${metrics.join(" · ")}`);
  if (s.probes) {
    for (const [probe, verdict] of Object.entries(s.probes)) {
      const details = Object.entries(verdict)
        .filter(([k, v]) => k !== "passed" && (typeof v === "number" || typeof v === "string" || typeof v === "boolean"))
        .map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : String(v)}`)
        .join(" ");
      lines.push(`            probe ${probe.padEnd(12)} ${verdict.passed ? "pass" : "FAIL"}${details ? `  ${details}` : ""}`);
    }
  }
  if (s.runDir) lines.push(`            run ${s.runDir}`);
  return lines;
}

function formatChange(change: Record<string, unknown>): string {
  if ("gene" in change && "from" in change && "to" in change) {
    return `${String(change.gene)}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`;
  }
  return JSON.stringify(change);
}
