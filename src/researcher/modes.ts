/**
 * The LLM researcher's two proposal modes (issue 7, after "Visual Programmability"): edit the parent's genome
 * (structured, always valid, cheap to check) or write free-form code. The mode is chosen per proposal from
 * each mode's record in the archive: how often its proposals passed the probes and beat their parent. Pure.
 */
import type { ExperimentSummary, ProposalMode } from "../contracts/experiment.ts";
import { TERMINAL_STATUSES } from "../contracts/experiment.ts";
import { pickWeighted, type Rng } from "./rng.ts";

export interface ModeRecord {
  mode: ProposalMode;
  /** Finished proposals made in this mode. */
  n: number;
  /** ... whose (last) probe passed. */
  passedProbe: number;
  /** ... with a fitness above their parent's. */
  beatParent: number;
}

/** What a mode's record reads of each experiment (the archive's summaries have it). */
export type ModeSource = Pick<ExperimentSummary, "id" | "parentId" | "status" | "mode" | "probe" | "fitness">;

/** Each mode's record over the archive's finished LLM proposals. */
export function modeRecords(experiments: readonly ModeSource[]): Record<ProposalMode, ModeRecord> {
  const byId = new Map(experiments.map((e) => [e.id, e]));
  const records: Record<ProposalMode, ModeRecord> = {
    genome: { mode: "genome", n: 0, passedProbe: 0, beatParent: 0 },
    code: { mode: "code", n: 0, passedProbe: 0, beatParent: 0 },
  };
  for (const e of experiments) {
    if ((e.mode !== "genome" && e.mode !== "code") || !(TERMINAL_STATUSES as readonly string[]).includes(e.status)) continue;
    const r = records[e.mode];
    r.n += 1;
    if (e.probe === "ok") r.passedProbe += 1;
    const parent = e.parentId ? byId.get(e.parentId) : undefined;
    if (e.fitness !== null && parent && parent.fitness !== null && e.fitness > parent.fitness) r.beatParent += 1;
  }
  return records;
}

/** Success rate with a uniform prior: (passed + beat + 1) / (2n + 2); an untried mode scores 0.5. */
export function successRate(r: ModeRecord): number {
  return (r.passedProbe + r.beatParent + 1) / (2 * r.n + 2);
}

/** A mode drawn with probability proportional to its success rate, among `allowed` (in that order). */
export function chooseMode(records: Record<ProposalMode, ModeRecord>, allowed: readonly ProposalMode[], rng: Rng): ProposalMode {
  if (allowed.length === 0) throw new Error("chooseMode: no mode allowed");
  return allowed[pickWeighted(rng, allowed.map((m) => successRate(records[m])))]!;
}
