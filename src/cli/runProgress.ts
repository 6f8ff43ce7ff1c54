/**
 * One run in flight as the progress view shows it: stage (rung), step/total, loss, tokens/s and ETA, measured from
 * the run's step events between the first one seen and the latest. Pure: events and a clock in, text out. Display
 * only (the loss and tokens are the candidate process's own report; nothing here enters the archive).
 */
import type { ProgressEvent } from "../contracts/result.ts";

export interface RunView {
  id: string;
  name: string;
  /** Where the experiment is in the loop: probing, training, analysing, ... */
  stage: string;
  /** The harness stage of the run in flight (its rung: proxy, lm, ...), from its start event. */
  run?: string;
  step?: number;
  total?: number;
  loss?: number | null;
  tokensPerS?: number | null;
  etaS?: number | null;
  /** The first step event seen of the current run: where rates are measured from. */
  first?: { step: number; tokens: number; at: number };
}

type StepEvent = Extract<ProgressEvent, { event: "step" }>;

/** Folds one of the run's progress events into its view; `now` in milliseconds. */
export function track(view: RunView, event: ProgressEvent, now: number): void {
  if (event.event === "start") {
    view.run = event.stage;
    view.first = undefined;
    view.step = view.total = view.tokensPerS = view.etaS = undefined;
    view.loss = undefined;
  } else if (event.event === "step") {
    trackStep(view, event, now);
  }
}

function trackStep(view: RunView, event: StepEvent, now: number): void {
  const tokens = typeof event.tokens === "number" ? event.tokens : null;
  if (!view.first || event.step < view.first.step) view.first = { step: event.step, tokens: tokens ?? 0, at: now };
  view.step = event.step;
  view.total = event.total_steps;
  view.loss = event.loss;
  const seconds = (now - view.first.at) / 1000;
  const steps = event.step - view.first.step;
  view.tokensPerS = tokens !== null && seconds > 0 && steps > 0 ? (tokens - view.first.tokens) / seconds : null;
  view.etaS = seconds > 0 && steps > 0 ? ((event.total_steps - event.step) * seconds) / steps : null;
}

/** "lm  step 120/600  loss 2.3450  12.3k tok/s  ETA 5m12s"; the stage alone before the first step. */
export function runText(view: RunView): string {
  const where = view.run && view.stage !== view.run ? `${view.stage} ${view.run}` : view.stage;
  const steps = stepText(view);
  return steps ? `${where}  ${steps}` : where;
}

/** "step 120/600  loss 2.3450  12.3k tok/s  ETA 5m12s"; "" before the first step. */
export function stepText(view: Pick<RunView, "step" | "total" | "loss" | "tokensPerS" | "etaS">): string {
  if (view.step === undefined || view.total === undefined) return "";
  const parts = [`step ${view.step}/${view.total}`, `loss ${view.loss == null ? "nan" : view.loss.toFixed(4)}`];
  if (view.tokensPerS != null) parts.push(`${formatRate(view.tokensPerS)} tok/s`);
  if (view.etaS != null) parts.push(`ETA ${formatEta(view.etaS)}`);
  return parts.join("  ");
}

/** The whole line of a run: "e000012 name  lm  step 120/600 ...". */
export function runLine(view: RunView): string {
  return `${view.id} ${view.name.slice(0, 40)}  ${runText(view)}`;
}

/** 950, 12.3k, 1.2M. */
export function formatRate(x: number): string {
  if (x < 1000) return x.toFixed(0);
  if (x < 1e6) return `${(x / 1000).toFixed(1)}k`;
  return `${(x / 1e6).toFixed(1)}M`;
}

/** 42s, 5m12s, 2h05m. */
export function formatEta(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

/** For plain output: the step's tenth of the run (a line is printed when it changes), or null for other events. */
export function decile(event: ProgressEvent): number | null {
  return event.event === "step" && event.total_steps > 0 ? Math.floor((10 * event.step) / event.total_steps) : null;
}
