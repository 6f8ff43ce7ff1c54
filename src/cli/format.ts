/** Human-readable summaries of results, shared by the read commands. */
import type { RunResult } from "../contracts/result.ts";

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

export function formatResult(label: string, result: RunResult, logPath?: string): string {
  const lines = [`${label} · ${result.stage} · ${result.status} · ${result.wall_s.toFixed(1)} s`];
  if (result.error) lines.push(`  error (${result.error.kind}): ${result.error.message}`);
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

function fmt(value: number | null): string {
  return value === null ? "nan" : number.format(value);
}

function probeNumbers(probe: Record<string, unknown>): string {
  return Object.entries(probe)
    .filter(([key, value]) => key !== "passed" && (typeof value === "number" || typeof value === "string"))
    .map(([key, value]) => `${key}=${typeof value === "number" ? fmt(value) : value}`)
    .join(" ");
}
