/**
 * The server's in-memory read model: one small row per experiment (no code, no long text) and the tree's
 * child lists, kept up to date from the archive's journal. Leaderboard and lineage answer from here, so they
 * never read bodies; pure functions for sorting, filtering and paging.
 */
import { TERMINAL_STATUSES, type Experiment } from "../contracts/experiment.ts";
import { keyNumbers } from "../analyst/keyNumbers.ts";
import { latestVerdict } from "../analyst/confirm.ts";
import { indistinguishable } from "../analyst/fitness.ts";
import { ladderStanding } from "../ladder/standing.ts";

export interface Row {
  id: string;
  name: string;
  parentId: string | null;
  campaign: string;
  proposer: Experiment["proposer"];
  status: Experiment["status"];
  fitness: number | null;
  /** The fitness's noise band (± this much), null when unknown. */
  band: number | null;
  /** The latest confirmation's verdict on fresh seeds, null when never confirmed. */
  confirmed: string | null;
  loss: number | null;
  bench: number | null;
  probes: string | null;
  /** The last ladder stage it reached (probe, proxy, ...; on a ladder, the highest training rung with a fitness). */
  rung: string | null;
  /** The ladder (issue 14): the level of that rung (0: the first training rung), its fitness there, and whether
   * its last promotion decision promoted it (null: none made). The leaderboard ranks by level, then that fitness. */
  level: number;
  rungFitness: number | null;
  promoted: boolean | null;
  mode: string | null;
  reason: string | null;
  createdAt: string;
  /** The last stage's metrics, for sorting by any metric. */
  metrics: Record<string, number | null>;
}

export function rowOf(e: Experiment): Row {
  const k = keyNumbers(e);
  const stages = Object.keys(e.stages);
  const standing = ladderStanding(e.rungs);
  const reached = standing === null ? null : e.rungs!.find((r) => r.level === standing.level)!.rung;
  const rung = reached ?? (stages.length ? stages[stages.length - 1]! : null);
  return {
    id: e.id, name: e.name, parentId: e.parentId, campaign: e.campaign, proposer: e.proposer, status: e.status,
    fitness: e.fitness?.value ?? null, band: e.fitness?.band ?? null, confirmed: latestVerdict(e), loss: k.loss, bench: k.benchmark,
    probes: k.probesTotal === null ? null : `${k.probesPassed}/${k.probesTotal}`, rung,
    level: standing?.level ?? 0, rungFitness: standing?.fitness ?? e.fitness?.value ?? null, promoted: e.promotions?.at(-1)?.promoted ?? null, mode: e.mode ?? null,
    reason: e.reason, createdAt: e.createdAt, metrics: rung ? { ...e.stages[rung]!.metrics } : {},
  };
}

export const inFlight = (r: Row) => !TERMINAL_STATUSES.includes(r.status);

export class RowIndex {
  readonly rows = new Map<string, Row>();
  /** Bumped on every change: sorted orders cached under an older version are stale. */
  version = 0;
  readonly #sorted = new Map<string, { version: number; rows: Row[] }>();
  readonly #children = new Map<string, string[]>();
  readonly roots: string[] = [];

  /** Every row in this order (pinned first), cached until the next change. */
  sorted(sort: string, order: "asc" | "desc" | null, pinnedFirst: ReadonlySet<string>): Row[] {
    const key = `${sort}|${order ?? ""}|${[...pinnedFirst].join(",")}`;
    const hit = this.#sorted.get(key);
    if (hit?.version === this.version) return hit.rows;
    const rows = sortRows([...this.rows.values()], sort, order, pinnedFirst);
    if (this.#sorted.size > 32) this.#sorted.clear();
    this.#sorted.set(key, { version: this.version, rows });
    return rows;
  }

  upsert(row: Row): void {
    this.version += 1;
    const before = this.rows.get(row.id);
    this.rows.set(row.id, row);
    if (before && before.parentId === row.parentId) return;
    if (before) this.#unlink(before);
    if (row.parentId === null) this.roots.push(row.id);
    else {
      const list = this.#children.get(row.parentId);
      if (list) list.push(row.id);
      else this.#children.set(row.parentId, [row.id]);
    }
  }

  children(id: string): readonly string[] {
    return this.#children.get(id) ?? [];
  }

  #unlink(row: Row): void {
    const list = row.parentId === null ? this.roots : this.#children.get(row.parentId);
    const i = list?.indexOf(row.id) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }
}

export interface LeaderboardQuery {
  status: string[];
  campaign: string | null;
  proposer: string | null;
  rung: string | null;
  /** Ids whose name or motivation matched the search (null: no search). */
  matched: ReadonlySet<string> | null;
  /** Only rows whose latest confirmation has this verdict (e.g. "confirmed better"). */
  confirmed?: string | null;
  limit: number;
  offset: number;
}

/** The value a row sorts by: fitness, created, name, id, loss, bench, or any metric as "metric:<key>". */
function sortValue(row: Row, sort: string): number | string | null {
  switch (sort) {
    case "fitness": return row.level > 0 ? row.rungFitness : row.fitness;
    case "created": return row.createdAt;
    case "name": return row.name;
    case "id": return row.id;
    case "loss": return row.loss;
    case "bench": return row.bench;
    default: return sort.startsWith("metric:") ? row.metrics[sort.slice(7)] ?? null : null;
  }
}

const DEFAULT_ORDER: Record<string, "asc" | "desc"> = { fitness: "desc", created: "desc", bench: "desc", name: "asc", id: "asc", loss: "asc" };

/** Rows in a leaderboard order: pinned first, then by the sort value (missing values last), ties by id. */
export function sortRows(rows: Row[], sort: string, order: "asc" | "desc" | null, pinnedFirst: ReadonlySet<string>): Row[] {
  const sign = (order ?? DEFAULT_ORDER[sort] ?? "desc") === "asc" ? 1 : -1;
  const values = new Map(rows.map((r) => [r.id, sortValue(r, sort)]));
  return rows.sort((a, b) => {
    const pa = pinnedFirst.has(a.id) ? 0 : 1;
    const pb = pinnedFirst.has(b.id) ? 0 : 1;
    if (pa !== pb) return pa - pb;
    if (sort === "fitness" && a.level !== b.level) return (a.level - b.level) * sign; // the ladder's rung first
    const va = values.get(a.id) ?? null;
    const vb = values.get(b.id) ?? null;
    if (va !== vb) {
      if (va === null) return 1;
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * sign;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** A page row: `tied` when its fitness is within the noise band of the row above it (after the filters). */
export type BoardRow = Row & { tied: boolean };

const tiedWith = (r: Row, above: Row | null): boolean =>
  above !== null && r.level === 0 && above.level === 0 && r.fitness !== null && above.fitness !== null &&
  indistinguishable({ value: r.fitness, band: r.band }, { value: above.fitness, band: above.band });

/** One page of already-sorted rows after the filters, and how many rows pass them. */
export function leaderboard(sorted: readonly Row[], q: LeaderboardQuery): { total: number; rows: BoardRow[] } {
  const statuses = q.status.length ? new Set(q.status) : null;
  const page: BoardRow[] = [];
  let total = 0;
  let above: Row | null = null;
  for (const r of sorted) {
    if (statuses && !statuses.has(r.status)) continue;
    if (q.campaign && r.campaign !== q.campaign) continue;
    if (q.proposer && r.proposer !== q.proposer) continue;
    if (q.rung && r.rung !== q.rung) continue;
    if (q.matched && !q.matched.has(r.id)) continue;
    if (q.confirmed && r.confirmed !== q.confirmed) continue;
    if (total >= q.offset && page.length < q.limit) page.push({ ...r, tied: tiedWith(r, above) });
    above = r;
    total += 1;
  }
  return { total, rows: page };
}
