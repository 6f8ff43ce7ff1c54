/**
 * Where a candidate stands on the ladder (issue 14), pure: the rung entries promote() reads, the highest rung it
 * reached (the leaderboard ranks by it, then by fitness there), and what of its climb is left to do.
 */
import type { PromotionDecision, RungResult } from "../contracts/experiment.ts";
import type { RungEntry } from "./policy.ts";

interface Laddered {
  id: string;
  rungs?: readonly RungResult[];
  promotions?: readonly PromotionDecision[];
}

/** Every result on `rung` so far (finished or not), as promote() reads them. */
export function rungEntries(experiments: readonly Laddered[], rung: string): RungEntry[] {
  const out: RungEntry[] = [];
  for (const e of experiments) {
    const r = e.rungs?.find((x) => x.rung === rung);
    if (r) out.push({ id: e.id, fitness: r.fitness?.value ?? null, verdict: r.verdict });
  }
  return out;
}

export { ladderStanding } from "../contracts/experiment.ts";

export type ClimbStep =
  | { kind: "record"; rung: string }
  | { kind: "decide"; from: string; to: string }
  | { kind: "train"; rung: string }
  | { kind: "done" };

/**
 * The next thing a finished candidate's climb needs, given the ladder's training rung names: record its first
 * rung's result, decide a promotion, train the rung it was promoted to, or nothing. A decision once recorded is
 * never made again; an interrupted rung is trained again (resumed) on the next run.
 */
export function nextClimbStep(exp: Laddered, rungs: readonly string[]): ClimbStep {
  if (rungs.length < 2) return { kind: "done" };
  for (let i = 0; i < rungs.length; i++) {
    const result = exp.rungs?.find((r) => r.rung === rungs[i]);
    if (!result) return i === 0 ? { kind: "record", rung: rungs[0]! } : { kind: "train", rung: rungs[i]! };
    if (i === rungs.length - 1 || result.fitness === null) return { kind: "done" };
    const decision = exp.promotions?.find((d) => d.from === rungs[i]);
    if (!decision) return { kind: "decide", from: rungs[i]!, to: rungs[i + 1]! };
    if (!decision.promoted) return { kind: "done" };
  }
  return { kind: "done" };
}
