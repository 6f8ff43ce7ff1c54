/** Human-readable summaries of results, shared by the read commands. */
import { spread, type MetricComparison, type Spread } from "../analyst/seeds.ts";
import type { RunResult } from "../contracts/result.ts";
import { formatEarlyStop, formatSeconds } from "../runner/earlyStop.ts";

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

export function formatResult(label: string, result: RunResult, logPath?: string): string {
  const lines = [`${label} · ${result.stage} · ${result.status} · ${result.wall_s.toFixed(1)} s`];
  if (result.error) lines.push(`  error (${result.error.kind}): ${result.error.message}`);
  if (result.early_stop) lines.push(`  ${formatEarlyStop(result.early_stop)}`);
  if (result.params) {
    lines.push(`  params ${number.format(result.params.total)} (mixer ${number.format(result.params.mixer)})`);
  }
  if (result.probes) {
    for (const [name, probe] of Object.entries(result.probes)) {
      lines.push(`  probe ${name.padEnd(12)} ${probe.passed ? "pass" : "FAIL"}  ${probeNumbers(probe)}`);
    }
  }
  if (result.curve.length > 0) {
    const first = result.curve[0]!;
    const last = result.curve[result.curve.length - 1]!;
    const speed = result.tokens_per_s ? ` · ${number.format(Math.round(result.tokens_per_s))} tokens/s` : "";
    lines.push(`  loss ${fmt(first.loss)} → ${fmt(last.loss)} over ${last.step} steps${speed}`);
  }
  const metrics = Object.entries(result.metrics);
  if (metrics.length > 0) lines.push(`  metrics ${metrics.map(([k, v]) => `${k} ${fmt(v)}`).join(" · ")}`);
  lines.push(`  env torch ${result.env.torch} · ${result.env.device} · ${result.env.dtype} · seed ${result.env.seed}`);
  if (logPath) lines.push(`  log ${logPath}`);
  return lines.join("\n");
}

// The evidence line is core (the campaign records it as a rejection reason): defined with early stop.
export { formatEarlyStop, formatSeconds };

function fmt(value: number | null): string {
  return value === null ? "nan" : number.format(value);
}

function probeNumbers(probe: Record<string, unknown>): string {
  return Object.entries(probe)
    .filter(([key, value]) => key !== "passed" && (typeof value === "number" || typeof value === "string"))
    .map(([key, value]) => `${key}=${typeof value === "number" ? fmt(value) : value}`)
    .join(" ");
}

/**
 * Several seeds and/or a baseline: each metric's mean ± spread, the baseline's, the per-seed difference and
 * its noise verdict (analyst/verdicts.ts: `better`/`worse` only beyond the band). Without a baseline: mean ± spread.
 */
export function formatComparison(results: readonly RunResult[], rows: readonly MetricComparison[] | null, against: string | null): string {
  const seeds = results.map((r) => r.env.seed).join(",");
  if (!rows) {
    const names = [...new Set(results.flatMap((r) => Object.keys(r.metrics)))];
    const lines = [`mean ± spread over seeds ${seeds}:`];
    for (const name of names) {
      const values = results.map((r) => r.metrics[name]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      if (values.length) lines.push(`  ${name.padEnd(22)} ${spreadText(spread(values))}`);
    }
    return lines.join("\n");
  }
  const lines = [`vs ${against} over seeds ${seeds}:`];
  lines.push(`  ${"metric".padEnd(22)} ${"candidate".padEnd(18)} ${"baseline".padEnd(18)} ${"difference".padEnd(18)} verdict`);
  for (const row of rows) {
    const arrow = row.higherIsBetter ? "↑" : "↓";
    const verdict = row.band === null ? `${row.verdict}: no noise floor with one seed (use --seeds 3)` : `${row.verdict} (band ±${row.band.toFixed(4)})`;
    lines.push(`  ${`${row.metric} ${arrow}`.padEnd(22)} ${spreadText(row.candidate).padEnd(18)} ${spreadText(row.baseline).padEnd(18)} ${spreadText(row.difference, true).padEnd(18)} ${verdict}`);
  }
  if (rows.length === 0) lines.push("  no metric in common with the baseline (did every run fail?)");
  return lines.join("\n");
}

function spreadText(s: Spread, signed = false): string {
  const mean = `${signed && s.mean > 0 ? "+" : ""}${s.mean.toFixed(4)}`;
  return s.std === null ? mean : `${mean} ± ${s.std.toFixed(4)}`;
}
