/**
 * Queries over the experiments' in-memory summaries: filters and the leaderboard's orders. Pure functions; the
 * archive maps the summaries they pick to records.
 */
import type { Experiment, ExperimentStatus } from "../contracts/experiment.ts";
import type { ExperimentSummary } from "./store.ts";

export type SortKey = "fitness" | "created" | "name" | "id";
export const SORT_KEYS: readonly SortKey[] = ["fitness", "created", "name", "id"];

export interface ExperimentFilter {
  status?: ExperimentStatus | readonly ExperimentStatus[];
  campaign?: string;
  proposer?: Experiment["proposer"];
}

export interface LeaderboardOptions extends ExperimentFilter {
  /** fitness: highest ladder rung first, then best fitness on it (ties by id); created: newest first; name: A-Z; id: oldest first. */
  sortBy?: SortKey;
  limit?: number;
  /** Leave out experiments without a fitness (default: true when sorting by fitness). */
  scoredOnly?: boolean;
}

/** Whether a summary passes the filter (status one of, campaign, proposer). */
export function matcher(filter: ExperimentFilter): (raw: ExperimentSummary) => boolean {
  const statuses = filter.status === undefined ? null : new Set(typeof filter.status === "string" ? [filter.status] : filter.status);
  return (raw) => (statuses === null || statuses.has(raw.status as ExperimentStatus))
    && (filter.campaign === undefined || raw.campaign === filter.campaign)
    && (filter.proposer === undefined || raw.proposer === filter.proposer);
}

/** The summaries a leaderboard shows, in its order; with a small limit one pass (top-k), not a full sort. */
export function rankSummaries(all: readonly ExperimentSummary[], opts: LeaderboardOptions = {}): ExperimentSummary[] {
  const sortBy = opts.sortBy ?? "fitness";
  const scoredOnly = opts.scoredOnly ?? sortBy === "fitness";
  const match = matcher(opts);
  const compare = COMPARATORS[sortBy];
  const limit = opts.limit ?? Infinity;
  let ranked: ExperimentSummary[];
  if (limit * 8 < all.length) {
    ranked = [];
    for (const raw of all) {
      if (!match(raw) || (scoredOnly && raw.fitness === null)) continue;
      if (ranked.length === limit && compare(raw, ranked[ranked.length - 1]!) >= 0) continue;
      let lo = 0;
      let hi = ranked.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compare(raw, ranked[mid]!) < 0) hi = mid;
        else lo = mid + 1;
      }
      ranked.splice(lo, 0, raw);
      if (ranked.length > limit) ranked.pop();
    }
  } else {
    ranked = all.filter((raw) => match(raw) && !(scoredOnly && raw.fitness === null)).sort(compare).slice(0, limit);
  }
  return ranked;
}

type Summary = ExperimentSummary;
const byId = (a: Summary, b: Summary) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const COMPARATORS: Record<SortKey, (a: Summary, b: Summary) => number> = {
  // The ladder first: a candidate that reached a higher rung ranks above, then by its fitness on that rung.
  fitness: (a, b) => {
    const ra = a.fitness === null ? 0 : a.rung ?? 0;
    const rb = b.fitness === null ? 0 : b.rung ?? 0;
    if (ra !== rb) return rb - ra;
    const fa = ra > 0 ? a.rungFitness ?? null : a.fitness;
    const fb = rb > 0 ? b.rungFitness ?? null : b.fitness;
    if (fa !== fb) {
      if (fa === null) return 1;
      if (fb === null) return -1;
      return fb - fa;
    }
    return byId(a, b);
  },
  created: (a, b) => (b.createdAt < a.createdAt ? -1 : b.createdAt > a.createdAt ? 1 : byId(b, a)),
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : byId(a, b)),
  id: byId,
};
