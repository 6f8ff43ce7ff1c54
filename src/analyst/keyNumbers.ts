/** The numbers a row of experiments shows (ls, the server's leaderboard): pure, from the record alone. */
import type { Experiment } from "../contracts/experiment.ts";

/** The numbers a table row shows: the loss and benchmark the fitness read, and probe verdicts. */
export interface KeyNumbers {
  loss: number | null;
  benchmark: number | null;
  probesPassed: number | null;
  probesTotal: number | null;
}

const LOSS_KEYS = ["loss", "final_loss", "eval_loss", "val_loss"];
const BENCH_KEYS = ["benchmark", "score", "mean_score", "average", "accuracy"];

export function keyNumbers(e: Experiment): KeyNumbers {
  const stages = Object.values(e.stages);
  const fromStages = (keys: string[]): number | null => {
    for (const stage of [...stages].reverse()) {
      for (const key of keys) {
        const value = stage.metrics[key];
        if (typeof value === "number" && Number.isFinite(value)) return value;
      }
    }
    return null;
  };
  const input = (key: string) => {
    const value = e.fitness?.inputs[key];
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  };
  let passed: number | null = null;
  let total: number | null = null;
  for (const stage of stages) {
    if (!stage.probes) continue;
    const verdicts = Object.values(stage.probes);
    passed = (passed ?? 0) + verdicts.filter((p) => p.passed).length;
    total = (total ?? 0) + verdicts.length;
  }
  return {
    loss: input("loss") ?? fromStages(LOSS_KEYS),
    benchmark: input("benchmark") ?? fromStages(BENCH_KEYS),
    probesPassed: passed,
    probesTotal: total,
  };
}
