/**
 * Plain-text views of archive records for the read commands (ls, show, lineage, export). Pure functions.
 */
import { keyNumbers } from "../analyst/keyNumbers.ts";
import type { Confirmation } from "../contracts/confirmation.ts";
import type { Experiment } from "../contracts/experiment.ts";
import { ladderStanding } from "../ladder/standing.ts";

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

export function fmt(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  return digits === 4 ? number.format(value) : value.toFixed(digits);
}

export { keyNumbers, type KeyNumbers } from "../analyst/keyNumbers.ts";

/** Why an experiment stopped, for rejected and failed ones: its reason, else its failing stage's message. */
export function whyStopped(e: Experiment): string {
  if (e.status !== "rejected" && e.status !== "failed") return "";
  if (e.reason) return e.reason;
  for (const [name, stage] of Object.entries(e.stages)) {
    if (stage.status !== "ok") return `${name}: ${stage.errorKind ?? stage.status}${stage.message ? ` (${stage.message})` : ""}`;
  }
  return "";
}

/** Columns padded to their widest cell; the last column is not padded. Cells are one line each. */
export function table(header: string[], rows: string[][]): string {
  const clean = (cell: string) => cell.replace(/\s+/g, " ");
  const all = [header, ...rows].map((row) => row.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd())
    .join("\n");
}

export function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Writes to stdout; a closed pipe (`archlab ls | head`) ends the process quietly instead of throwing. */
export function writeOut(text: string): void {
  if (!process.stdout.listeners("error").includes(quietOnClosedPipe)) process.stdout.on("error", quietOnClosedPipe);
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

function quietOnClosedPipe(err: NodeJS.ErrnoException): void {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
}

/** One row per experiment for CSV: fixed columns, then every stage metric as "<stage>.<metric>". */
export function csv(experiments: readonly Experiment[]): string {
  const metricKeys = new Set<string>();
  for (const e of experiments) {
    for (const [stage, summary] of Object.entries(e.stages)) {
      for (const key of Object.keys(summary.metrics)) metricKeys.add(`${stage}.${key}`);
    }
  }
  const metrics = [...metricKeys].sort();
  const header = [
    "id", "name", "parentId", "campaign", "proposer", "status", "fitness", "loss", "benchmark", "probesPassed",
    "probesTotal", "reason", "genomeKey", "fingerprint", "codeHash", "commit", "cpuSeconds", "gpuSeconds",
    "llmTokensIn", "llmTokensOut", "llmDollars", "createdAt", "updatedAt", ...metrics,
  ];
  const lines = [header.map(csvCell).join(",")];
  for (const e of experiments) {
    const k = keyNumbers(e);
    const row: unknown[] = [
      e.id, e.name, e.parentId, e.campaign, e.proposer, e.status, e.fitness?.value, k.loss, k.benchmark, k.probesPassed,
      k.probesTotal, whyStopped(e) || e.reason, e.genomeKey, e.fingerprint, e.codeHash, e.commit, e.costs.cpuSeconds,
      e.costs.gpuSeconds, e.costs.llmTokensIn, e.costs.llmTokensOut, e.costs.llmDollars, e.createdAt, e.updatedAt,
      ...metrics.map((key) => {
        const dot = key.indexOf(".");
        return e.stages[key.slice(0, dot)]?.metrics[key.slice(dot + 1)];
      }),
    ];
    lines.push(row.map(csvCell).join(","));
  }
  return lines.join("\n") + "\n";
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The evidence, as `confirm` and `show` print it. */
export function formatConfirmation(id: string, c: Confirmation): string {
  const lines = [`${id}: ${c.verdict} on fresh seeds ${c.seeds.join(",")} (${c.stage}${c.preset ? ` ${c.preset}` : ""}; excluded seeds ${c.excludedSeeds.join(",")}; ${fmt(c.wallS)} s of training)`];
  if (c.failure) lines.push(`  ${c.failure}`);
  for (const m of c.metrics) {
    const deciding = c.decidedOn.includes(m.metric) ? "*" : " ";
    const spread = m.std === null ? "" : ` ± ${fmt(m.std)}`;
    const band = m.band === null ? "no band" : `band ±${fmt(m.band)}${m.floor === null ? "" : `, floor ${fmt(m.floor)}`}`;
    lines.push(`  ${deciding} ${m.metric.padEnd(12)} paired diff ${m.mean >= 0 ? "+" : ""}${fmt(m.mean)}${spread}  (${band})  ${m.verdict}`);
  }
  lines.push(`  (* decides the verdict; paired diff = candidate - baseline on the same seed, mean ± std over seeds)`);
  return lines.join("\n");
}

/** The highest rung an experiment reached (has a fitness on), or null outside a ladder. */
export function reachedRung(e: Pick<Experiment, "rungs">): string | null {
  const standing = ladderStanding(e.rungs);
  return standing === null ? null : e.rungs!.find((r) => r.level === standing.level)!.rung;
}

/** The ladder as `show` prints it: each rung's result, each promotion decision with its reasons. */
export function formatLadder(e: Pick<Experiment, "rungs" | "promotions">): string[] {
  if (!e.rungs?.length) return [];
  const reached = reachedRung(e);
  const lines = [`ladder      ${reached ? `reached ${reached}` : "no rung finished"}`];
  for (const r of [...e.rungs].sort((a, b) => a.level - b.level)) {
    const fit = r.fitness ? `fitness ${fmt(r.fitness.value)}${r.fitness.band == null ? "" : ` ± ${fmt(r.fitness.band)}`} · ${r.verdict ?? "no verdict"} vs its baseline` : "no fitness";
    lines.push(`  ${r.rung.padEnd(10)}${r.stage} ${r.preset ?? ""} · ${r.status} · ${fit}`);
    const d = e.promotions?.find((p) => p.from === r.rung);
    if (d) lines.push(`            ${d.promoted ? "promoted" : "not promoted"} ${d.from} → ${d.to}: ${d.reasons.join("; ")}`);
  }
  return lines;
}
