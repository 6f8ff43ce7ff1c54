/**
 * Early stop of a run in flight (DESIGN §4): a Runner decorator. While the run streams the trusted evaluator's
 * monitor events (held-out loss at each logged step, computed outside the candidate's process), this side — the
 * orchestrator, never the candidate — applies the pure policy `earlyStop()` against the baseline's monitor curve
 * at the same stage config. When it fires, the run is aborted through the runner's own path (local: both process
 * groups killed; Slurm: scancel) and its result is recorded as `stopped_early` with the evidence and the compute
 * it saved. A run the caller aborts for its own reasons keeps the runner's result.
 */
import fs from "node:fs";
import path from "node:path";
import { EarlyStopRule, type EarlyStopRecord } from "../contracts/ladder.ts";
import type { MonitorPoint, ProgressEvent, RunResult } from "../contracts/result.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { earlyStop, type CurvePoint } from "../ladder/policy.ts";
import type { RunContext, RunOutcome, Runner } from "./runner.ts";

/** The run option: the rule, and the baseline's monitor curve on the same stage config and seed. */
export interface EarlyStopOption {
  rule: EarlyStopRule;
  baseline: readonly CurvePoint[];
}

/** The option from a rule as a campaign file or the CLI writes it (defaults filled) and a baseline result. */
export function earlyStopOption(rule: Partial<EarlyStopRule> | undefined, baseline: Pick<RunResult, "monitor">): EarlyStopOption {
  return { rule: EarlyStopRule.parse(rule ?? {}), baseline: baseline.monitor ?? [] };
}

/** Watches one run's events; `evidence` is set once the rule fires. Pure apart from the clock it is given. */
export class EarlyStopWatch {
  readonly monitor: MonitorPoint[] = [];
  readonly curve: RunResult["curve"] = [];
  evidence: EarlyStopRecord | null = null;
  private first: { step: number; at: number } | null = null;
  private startedAt: number | null = null;

  constructor(readonly option: EarlyStopOption, readonly now: () => number = () => performance.now()) {}

  /** Feeds one event; true when this event made the rule fire. */
  see(event: ProgressEvent): boolean {
    const at = this.now();
    if (event.event === "start") this.startedAt ??= at;
    if (event.event === "step") {
      this.first ??= { step: event.step, at };
      const tokens = typeof event.tokens === "number" ? event.tokens : 0;
      this.curve.push({ step: event.step, tokens, loss: event.loss });
    }
    if (event.event !== "monitor" || this.evidence) return false;
    this.monitor.push({ step: event.step, loss: event.loss });
    const fired = earlyStop(this.option.rule, this.monitor, this.option.baseline, event.total_steps);
    if (!fired) return false;
    this.evidence = { ...fired, total_steps: event.total_steps, seconds_saved: round(fired.steps_saved * this.secondsPerStep(event.step, at)), rule: this.option.rule };
    return true;
  }

  /** Measured so far: between the first logged step and this one, else since the run's start. */
  private secondsPerStep(step: number, at: number): number {
    if (this.first && step > this.first.step) return (at - this.first.at) / 1000 / (step - this.first.step);
    return this.startedAt === null || step <= 0 ? 0 : (at - this.startedAt) / 1000 / step;
  }
}

/** `inner` with early stop: runs given `ctx.earlyStop` (and a training stage, and a baseline curve) are watched. */
export function earlyStopping(inner: Runner): Runner {
  return {
    kind: inner.kind,
    async run(spec: RunSpec, ctx: RunContext): Promise<RunOutcome> {
      const option = ctx.earlyStop;
      if (!option || !spec.train || option.baseline.length === 0) return inner.run(spec, ctx);
      const watch = new EarlyStopWatch(option);
      const controller = new AbortController();
      const passOn = () => controller.abort(ctx.signal?.reason);
      if (ctx.signal?.aborted) passOn();
      ctx.signal?.addEventListener("abort", passOn, { once: true });
      const onProgress = (event: ProgressEvent) => {
        ctx.onProgress?.(event);
        if (watch.see(event)) {
          ctx.onProgress?.({ event: "stopped_early", ...watch.evidence! });
          controller.abort(new Error("stopped early"));
        }
      };
      try {
        const out = await inner.run(spec, { ...ctx, signal: controller.signal, onProgress });
        if (!watch.evidence || ctx.signal?.aborted) return out;
        const result = stoppedResult(out.result, watch, out.processS);
        fs.writeFileSync(spec.result_path, JSON.stringify(result, null, 1));
        removeCheckpoint(spec, ctx.runDir);
        return { ...out, result };
      } finally {
        ctx.signal?.removeEventListener("abort", passOn);
      }
    },
  };
}

/** What the archive keeps of a stopped run: no error, its curves so far, the evidence; no metrics (not evaluated). */
function stoppedResult(killed: RunResult, watch: EarlyStopWatch, processS: number): RunResult {
  const e = watch.evidence!;
  return {
    ...killed,
    status: "stopped_early",
    error: null,
    curve: killed.curve.length ? killed.curve : watch.curve,
    monitor: watch.monitor,
    metrics: {},
    wall_s: killed.wall_s || round(processS),
    early_stop: e,
    candidate_reported: ["curve"],
  };
}

/** A stopped run is finished: a rerun in the same folder starts afresh rather than resuming it. */
function removeCheckpoint(spec: RunSpec, runDir: string): void {
  if (!spec.checkpoint_path) return;
  for (const file of [spec.checkpoint_path, path.join(runDir, "work", path.basename(spec.checkpoint_path))]) fs.rmSync(file, { force: true });
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** One line of a stopped_early run's evidence: "stopped early at step 10/20: held-out loss 5.2 vs baseline's 4.1 …". */
export function formatEarlyStop(e: EarlyStopRecord): string {
  const trail = ((e.loss / e.baseline_loss - 1) * 100).toFixed(1);
  return `stopped early at step ${e.step}/${e.total_steps}: held-out loss ${e.loss.toFixed(4)} vs the baseline's ${e.baseline_loss.toFixed(4)} ` +
    `(+${trail}%, margin ${(e.margin * 100).toFixed(0)}%); saved ${e.steps_saved} steps, about ${formatSeconds(e.seconds_saved)}`;
}

/** 42 s, 3.5 min, 2.1 h. */
export function formatSeconds(s: number): string {
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
