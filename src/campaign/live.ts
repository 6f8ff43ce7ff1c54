/**
 * Live progress for watchers (`archlab serve`): each experiment's training steps, appended to
 * `runs/<id>/live/progress.jsonl` (one JSON line per step, at most every 200 ms plus stage starts and ends).
 * Display only: nothing reads it back into the archive's records.
 */
import fs from "node:fs";
import path from "node:path";
import type { ProgressEvent } from "../contracts/result.ts";
import type { Archive } from "../archive/archive.ts";

export const LIVE_STAGE = "live";
export const LIVE_FILE = "progress.jsonl";

export function liveWriter(archive: Archive, id: string, stage: string, now: () => number = Date.now): (event: ProgressEvent) => void {
  const file = path.join(archive.runDir(id, LIVE_STAGE), LIVE_FILE);
  let last = 0;
  return (event) => {
    const t = now();
    if (event.event === "step" && t - last < 200 && event.step < event.total_steps) return;
    last = t;
    const at = new Date(t).toISOString();
    const line = event.event === "step"
      ? { at, stage, step: event.step, total_steps: event.total_steps, loss: event.loss, ...(typeof event.tokens === "number" ? { tokens: event.tokens } : {}) }
      : event.event === "monitor" || event.event === "stopped_early"
        ? { ...event, at, stage } // the evaluator's held-out loss; the early stop's evidence
        : { at, stage, event: event.event };
    try {
      fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // display only: a full disk must not stop the run
    }
  };
}
