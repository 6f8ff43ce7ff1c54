/**
 * The summary an unattended run reports (issue 17): experiments in a window by outcome, the best new candidates,
 * recent failures, Slurm job counts and costs. Pure: records in, summary out; `archlab report` prints it, and
 * `notify:` sends it.
 */
import type { Campaign, Experiment } from "../contracts/experiment.ts";
import { UserError } from "../errors.ts";
import { ladderStanding } from "../ladder/standing.ts";

export interface ReportSummary {
  since: string | null;
  until: string;
  experiments: { total: number; done: number; failed: number; rejected: number; unfinished: number };
  /** Best finished experiments in the window by fitness (verdicts where the analyst wrote one). */
  best: { id: string; name: string; fitness: number; parentId: string | null; campaign: string; verdict: string | null; rung?: string | null }[];
  failures: { id: string; name: string; status: string; reason: string | null }[];
  campaigns: { id: string; name: string; startedAt: string; endedAt: string | null; stopReason: string | null }[];
  jobs: { submitted: number; reattached: number; requeued: number; cancelled: number };
  costs: { cpuHours: number; gpuHours: number; llmDollars: number; llmTokensIn: number; llmTokensOut: number };
  /** Runs stopped early (trailing the baseline's curve) and the compute that saved. */
  earlyStop: EarlySaved;
}

export interface EarlySaved {
  runs: number;
  stepsSaved: number;
  /** Estimated: each run's steps saved × its measured seconds per step. */
  secondsSaved: number;
}

/** The early stops recorded on the experiments' stages, added up. */
export function savedByEarlyStop(experiments: readonly Experiment[]): EarlySaved {
  const stops = experiments.flatMap((e) => Object.values(e.stages ?? {}).flatMap((s) => (s.earlyStop ? [s.earlyStop] : [])));
  return { runs: stops.length, stepsSaved: stops.reduce((n, e) => n + e.steps_saved, 0), secondsSaved: stops.reduce((n, e) => n + e.seconds_saved, 0) };
}

/** "early stop: 3 runs stopped, 1,350 steps saved (about 16.2 min)", or null when none stopped. */
export function earlySavedLine(saved: EarlySaved): string | null {
  if (!saved.runs) return null;
  return `early stop: ${saved.runs} run${saved.runs === 1 ? "" : "s"} stopped trailing the baseline, ${saved.stepsSaved.toLocaleString("en-US")} steps saved (about ${(saved.secondsSaved / 60).toFixed(1)} min)`;
}

export interface SummaryInput {
  experiments: readonly Experiment[];
  campaigns: readonly Campaign[];
  since: Date | null;
  now: Date;
  /** Only this campaign's experiments (a notification); all by default. */
  campaign?: string;
  top?: number;
}

export function summarise(input: SummaryInput): ReportSummary {
  const since = input.since?.getTime() ?? -Infinity;
  const inWindow = input.experiments.filter((e) =>
    Date.parse(e.updatedAt) >= since && (input.campaign === undefined || e.campaign === input.campaign));
  const count = (s: string) => inWindow.filter((e) => e.status === s).length;
  const done = inWindow.filter((e) => e.status === "done" && e.fitness !== null);
  const jobs = inWindow.flatMap((e) => e.jobs ?? []);
  const sum = (f: (e: Experiment) => number) => inWindow.reduce((s, e) => s + f(e), 0);
  return {
    since: input.since?.toISOString() ?? null,
    until: input.now.toISOString(),
    experiments: {
      total: inWindow.length, done: count("done"), failed: count("failed"), rejected: count("rejected"),
      unfinished: inWindow.filter((e) => !["done", "failed", "rejected"].includes(e.status)).length,
    },
    // The ladder's order (issue 14): the highest rung reached first, then the fitness there.
    best: done.map((e) => ({ e, standing: ladderStanding(e.rungs) ?? { level: 0, fitness: e.fitness!.value } }))
      .sort((a, b) => b.standing.level - a.standing.level || b.standing.fitness - a.standing.fitness).slice(0, input.top ?? 5).map(({ e, standing }) => ({
        id: e.id, name: e.name, fitness: standing.fitness, parentId: e.parentId, campaign: e.campaign, verdict: verdictOf(e),
        ...(e.rungs?.length && { rung: e.rungs.find((r) => r.level === standing.level)?.rung ?? null }),
      })),
    failures: inWindow.filter((e) => e.status === "failed").slice(-5).map((e) => ({ id: e.id, name: e.name, status: e.status, reason: e.reason })),
    campaigns: input.campaigns
      .filter((c) => (c.endedAt === null || Date.parse(c.endedAt) >= since) && (input.campaign === undefined || c.id === input.campaign))
      .map((c) => ({ id: c.id, name: c.name, startedAt: c.startedAt, endedAt: c.endedAt, stopReason: c.stopReason })),
    jobs: {
      submitted: jobs.length, reattached: jobs.filter((j) => j.reattached > 0).length,
      requeued: jobs.reduce((s, j) => s + j.restarts, 0), cancelled: jobs.filter((j) => j.state === "CANCELLED").length,
    },
    costs: {
      cpuHours: sum((e) => e.costs.cpuSeconds) / 3600, gpuHours: sum((e) => e.costs.gpuSeconds) / 3600,
      llmDollars: sum((e) => e.costs.llmDollars), llmTokensIn: sum((e) => e.costs.llmTokensIn), llmTokensOut: sum((e) => e.costs.llmTokensOut),
    },
    earlyStop: savedByEarlyStop(inWindow),
  };
}

/** A verdict the analyst recorded on the experiment (confirmation, issue 13), when the record has one. */
function verdictOf(e: Experiment): string | null {
  const v = (e as Record<string, unknown>).verdict ?? ((e as Record<string, unknown>).confirmation as { verdict?: unknown } | undefined)?.verdict;
  return typeof v === "string" ? v : null;
}

export function summaryMarkdown(s: ReportSummary, title = "archlab report"): string {
  const e = s.experiments;
  const lines = [
    `# ${title}`, "",
    `${s.since ? `Since ${s.since}` : "All time"} to ${s.until}.`, "",
    `**Experiments:** ${e.total} (${e.done} done, ${e.failed} failed, ${e.rejected} rejected, ${e.unfinished} unfinished)`, "",
    `**Costs:** ${s.costs.cpuHours.toFixed(2)} CPU-h · ${s.costs.gpuHours.toFixed(2)} GPU-h · $${s.costs.llmDollars.toFixed(4)} LLM (${s.costs.llmTokensIn} in / ${s.costs.llmTokensOut} out tokens)`,
  ];
  const early = earlySavedLine(s.earlyStop);
  if (early) lines.push("", `**Early stop:** ${early.replace(/^early stop: /, "")}`);
  if (s.jobs.submitted) lines.push("", `**Slurm jobs:** ${s.jobs.submitted} (${s.jobs.reattached} re-attached, ${s.jobs.requeued} requeues, ${s.jobs.cancelled} cancelled)`);
  lines.push("", "## Best new candidates", "");
  if (s.best.length) {
    const rungs = s.best.some((b) => b.rung);
    lines.push(`| id | name | fitness | verdict | parent |${rungs ? " rung |" : ""}`, `|---|---|---|---|---|${rungs ? "---|" : ""}`);
    for (const b of s.best) lines.push(`| ${b.id} | ${b.name} | ${b.fitness.toFixed(4)} | ${b.verdict ?? "-"} | ${b.parentId ?? "-"} |${rungs ? ` ${b.rung ?? "-"} |` : ""}`);
  } else lines.push("None finished in this window.");
  if (s.failures.length) {
    lines.push("", "## Recent failures", "");
    for (const f of s.failures) lines.push(`- ${f.id} ${f.name}: ${f.reason ?? f.status}`);
  }
  if (s.campaigns.length) {
    lines.push("", "## Campaigns", "");
    for (const c of s.campaigns) lines.push(`- ${c.id}: started ${c.startedAt}, ${c.endedAt ? `ended ${c.endedAt}` : "open"}${c.stopReason ? ` (${c.stopReason})` : ""}`);
  }
  return lines.join("\n") + "\n";
}

/** "24h", "30m", "7d", "90s", or a date; null for none. */
export function parseSince(text: string | undefined, now: Date): Date | null {
  if (text === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s"]! * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UserError(`--since "${text}": a duration such as 24h, 30m, 7d, or a date`);
  return new Date(at);
}
