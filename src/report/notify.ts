/**
 * `notify:` (issue 17): a command and/or a webhook told when an unattended campaign ends, stops on a budget,
 * sees its failures spike, or has a run stuck past its timeout: told while that run is still running (its start
 * event carries the limit the trusted evaluator enforces), or when it ends on its timeout. Each message carries
 * the campaign's summary.
 * A notification that cannot be delivered is reported on stderr; it never stops the campaign.
 */
import { execa } from "execa";
import { z } from "zod";
import { Archive } from "../archive/archive.ts";
import type { Experiment } from "../contracts/experiment.ts";
import { summarise, type ReportSummary } from "./summary.ts";

export const NOTIFY_EVENTS = ["campaign_end", "budget_stop", "error_spike", "run_stuck"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const NotifyConfig = z.strictObject({
  /** Run with `sh -c`; the message as JSON on stdin, ARCHLAB_EVENT and ARCHLAB_MESSAGE in the environment. */
  command: z.string().min(1).nullable().default(null),
  /** POSTed the message as JSON. */
  webhook: z.url({ protocol: /^https?$/ }).nullable().default(null),
  on: z.array(z.enum(NOTIFY_EVENTS)).min(1).default([...NOTIFY_EVENTS]),
  /** error_spike: more than half of the last `error_window` finished experiments failed (at least half the window seen). */
  error_window: z.number().int().min(2).default(10),
  /** run_stuck: a run still running this many seconds past its timeout is reported (once), without waiting for its end. */
  stuck_after_s: z.number().nonnegative().default(60),
});
export type NotifyConfig = z.infer<typeof NotifyConfig>;

export const NOTIFY_SCHEMA = "archlab.notify/1";

export interface NotifyMessage {
  schema: typeof NOTIFY_SCHEMA;
  event: NotifyEvent;
  campaign: string;
  archive: string;
  at: string;
  message: string;
  summary: ReportSummary;
}

/** Stop reasons that are budgets (campaign.ts budgetStop), as opposed to an exhausted design space or a signal. */
export function isBudgetStop(reason: string): boolean {
  return /budget|reached/.test(reason);
}

/** Pure: a spike when more than half of the last `window` finished experiments failed, with >= window/2 seen. */
export function errorSpike(statuses: readonly string[], window: number): boolean {
  const last = statuses.slice(-window);
  return last.length >= Math.ceil(window / 2) && last.filter((s) => s === "failed").length / last.length > 0.5;
}

/** A stage of the experiment that ended on its timeout (the harness's, or a job cancelled as stuck). */
export function timedOutStage(e: Experiment): string | null {
  return Object.entries(e.stages).find(([, s]) => s.status === "timeout")?.[0] ?? null;
}

/** A run seen starting (its harness start event): what run_stuck needs to tell it is overdue. */
interface LiveRun {
  stage: string;
  name: string;
  startedAt: number;
  timeoutS: number;
  told: boolean;
}

/** Pure: the runs at least `afterS` seconds past their timeout at `now` and not yet told. */
export function overdueRuns(runs: ReadonlyMap<string, LiveRun>, now: number, afterS: number): string[] {
  return [...runs].filter(([, r]) => !r.told && now - r.startedAt > (r.timeoutS + afterS) * 1000).map(([id]) => id);
}

export interface NotifierEvent {
  type: string;
  campaign?: { id: string };
  experiment?: Experiment;
  reason?: string;
  id?: string;
  name?: string;
  stage?: string;
  event?: { event: string; stage?: unknown; timeout_s?: unknown };
}

export class Notifier {
  readonly #pending: Promise<void>[] = [];
  readonly #statuses: string[] = [];
  readonly #live = new Map<string, LiveRun>();
  readonly #names = new Map<string, string>();
  readonly #clock: NodeJS.Timeout;
  #spiking = false;
  #campaign = "";

  constructor(readonly config: NotifyConfig, readonly archiveDir: string, readonly warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`), checkMs = 1000) {
    this.#clock = setInterval(() => this.#checkStuck(), checkMs);
    this.#clock.unref();
  }

  /** Feed it the campaign's events (CampaignEvent); deliveries run in the background until settle(). */
  onEvent(e: NotifierEvent): void {
    if (e.type === "start" && e.campaign) this.#campaign = e.campaign.id;
    if (e.type === "stage" && e.id && e.name) {
      this.#names.set(e.id, e.name);
      this.#live.delete(e.id); // its previous run is over
    }
    if (e.type === "progress" && e.id && e.event?.event === "done") this.#live.delete(e.id);
    if (e.type === "progress" && e.id && e.event?.event === "start" && typeof e.event.timeout_s === "number") {
      const stage = typeof e.event.stage === "string" ? e.event.stage : "run";
      this.#live.set(e.id, { stage, name: this.#names.get(e.id) ?? "", startedAt: Date.now(), timeoutS: e.event.timeout_s, told: false });
    }
    if (e.type === "finished" && e.experiment) {
      const exp = e.experiment;
      const told = this.#live.get(exp.id)?.told ?? false;
      this.#live.delete(exp.id);
      this.#statuses.push(exp.status);
      const stage = timedOutStage(exp);
      if (stage && !told) this.#send("run_stuck", `${exp.id} ${exp.name}: the ${stage} run ended past its timeout (${exp.reason ?? "timeout"})`);
      const spike = errorSpike(this.#statuses, this.config.error_window);
      if (spike && !this.#spiking) {
        const last = this.#statuses.slice(-this.config.error_window);
        this.#send("error_spike", `${last.filter((s) => s === "failed").length} of the last ${last.length} experiments failed (latest: ${exp.id}: ${exp.reason ?? exp.status})`);
      }
      this.#spiking = spike;
    }
    if (e.type === "stop" && e.reason !== undefined) {
      this.#send(isBudgetStop(e.reason) ? "budget_stop" : "campaign_end", `campaign ${this.#campaign} stopped: ${e.reason}`);
    }
  }

  /** Waits for every delivery started so far; no more stuck checks after it. */
  async settle(): Promise<void> {
    this.close();
    await Promise.all(this.#pending);
  }

  close(): void {
    clearInterval(this.#clock);
  }

  #checkStuck(): void {
    const now = Date.now();
    for (const id of overdueRuns(this.#live, now, this.config.stuck_after_s)) {
      const run = this.#live.get(id)!;
      run.told = true;
      const runningS = Math.round((now - run.startedAt) / 1000);
      this.#send("run_stuck", `${id}${run.name ? ` ${run.name}` : ""}: the ${run.stage} run is still running ${runningS} s after it started, past its ${run.timeoutS} s timeout`);
    }
  }

  #send(event: NotifyEvent, message: string): void {
    if (!this.config.on.includes(event)) return;
    this.#pending.push(this.#deliver(event, message).catch((err) => this.warn(`archlab: notify ${event}: ${(err as Error).message}`)));
  }

  async #deliver(event: NotifyEvent, message: string): Promise<void> {
    const archive = await Archive.open(this.archiveDir, { mode: "read" });
    let summary: ReportSummary;
    try {
      summary = summarise({ experiments: archive.experiments(), campaigns: archive.campaigns(), since: null, now: new Date(), campaign: this.#campaign });
    } finally {
      await archive.close();
    }
    const body: NotifyMessage = { schema: NOTIFY_SCHEMA, event, campaign: this.#campaign, archive: this.archiveDir, at: new Date().toISOString(), message, summary };
    const json = JSON.stringify(body);
    const jobs: Promise<void>[] = [];
    if (this.config.command) {
      jobs.push(execa("sh", ["-c", this.config.command], {
        input: json, timeout: 30_000, reject: false, env: { ARCHLAB_EVENT: event, ARCHLAB_MESSAGE: message },
      }).then((r) => {
        if (r.exitCode !== 0) this.warn(`archlab: notify command exited ${r.exitCode ?? r.signal}: ${String(r.stderr).trim().split("\n").at(-1) ?? ""}`);
      }));
    }
    if (this.config.webhook) {
      jobs.push(fetch(this.config.webhook, {
        method: "POST", headers: { "content-type": "application/json" }, body: json, signal: AbortSignal.timeout(15_000),
      }).then((r) => {
        if (!r.ok) this.warn(`archlab: notify webhook answered ${r.status} ${r.statusText}`);
      }));
    }
    await Promise.all(jobs);
  }
}
