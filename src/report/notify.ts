/**
 * `notify:` (issue 17): a command and/or a webhook told when an unattended campaign ends, stops on a budget,
 * sees its failures spike, or has a run end past its timeout. Each message carries the campaign's summary.
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

export class Notifier {
  readonly #pending: Promise<void>[] = [];
  readonly #statuses: string[] = [];
  #spiking = false;
  #campaign = "";

  constructor(readonly config: NotifyConfig, readonly archiveDir: string, readonly warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  /** Feed it the campaign's events (CampaignEvent); deliveries run in the background until settle(). */
  onEvent(e: { type: string; campaign?: { id: string }; experiment?: Experiment; reason?: string }): void {
    if (e.type === "start" && e.campaign) this.#campaign = e.campaign.id;
    if (e.type === "finished" && e.experiment) {
      const exp = e.experiment;
      this.#statuses.push(exp.status);
      const stage = timedOutStage(exp);
      if (stage) this.#send("run_stuck", `${exp.id} ${exp.name}: the ${stage} run ended past its timeout (${exp.reason ?? "timeout"})`);
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

  /** Waits for every delivery started so far. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending);
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
