/**
 * The server's live view of one archive. It never locks and never writes: a read-only Archive for details
 * (re-opened, at most every 250 ms, only when a request needs it after the journal moved), the row index for
 * leaderboard and lineage, fed by tailing the archive's journal (each `put` carries the whole record), the
 * steering journal, and in-flight experiments' live progress files. Changes are pushed to listeners (the SSE
 * stream); nothing re-reads the archive on a timer.
 */
import path from "node:path";
import { Experiment } from "../contracts/experiment.ts";
import type { SteeringAction } from "../contracts/steering.ts";
import { Archive } from "../archive/archive.ts";
import { JOURNAL_FILE } from "../archive/index.ts";
import { LIVE_FILE, LIVE_STAGE } from "../campaign/live.ts";
import { parseSteeringLines, steeringPath } from "../steering/journal.ts";
import { foldSteering, type SteeringState } from "../steering/state.ts";
import { LineTail } from "../steering/tail.ts";
import { inFlight, RowIndex, rowOf, type Row } from "./rows.ts";

export interface Progress {
  id: string;
  at: string;
  stage: string;
  step?: number;
  total_steps?: number;
  loss?: number | null;
  event?: string;
}

export type ViewEvent =
  | { type: "experiment"; row: Row }
  | { type: "campaign"; id: string }
  | { type: "progress"; progress: Progress }
  | { type: "steering"; record: SteeringAction };

export class ArchiveView {
  readonly dir: string;
  readonly rows = new RowIndex();
  #archive: Archive;
  #stale = false;
  #reopening: Promise<Archive> | null = null;
  #lastOpen = 0;
  readonly #journal: LineTail;
  readonly #steeringTail: LineTail;
  readonly #steering: SteeringAction[] = [];
  #steeringState: SteeringState = foldSteering([]);
  readonly #live = new Map<string, LineTail>();
  readonly progress = new Map<string, Progress>();
  readonly #listeners = new Set<(e: ViewEvent) => void>();
  readonly #stops: (() => void)[] = [];
  readonly #motivations = new Map<string, string>();

  private constructor(dir: string, archive: Archive, journal: LineTail) {
    this.dir = dir;
    this.#archive = archive;
    this.#journal = journal;
    this.#steeringTail = new LineTail(steeringPath(dir));
  }

  static async open(dir: string): Promise<ArchiveView> {
    // The tail starts before the snapshot is read, so no op falls between them (replaying one is harmless).
    const journal = new LineTail(path.join(dir, JOURNAL_FILE), { fromEnd: true });
    const archive = await Archive.open(dir, { mode: "read", warn: () => {} });
    const view = new ArchiveView(dir, archive, journal);
    for (const e of archive.experiments()) view.rows.upsert(rowOf(e));
    view.#readSteering();
    for (const row of view.rows.rows.values()) if (inFlight(row)) view.#follow(row.id);
    view.#readLive();
    view.#stops.push(journal.watch(() => view.#readJournal()));
    view.#stops.push(view.#steeringTail.watch(() => view.#readSteering()));
    const live = setInterval(() => view.#readLive(), 300);
    live.unref();
    view.#stops.push(() => clearInterval(live));
    return view;
  }

  /** The archive as of the latest journal change (re-opened when a change happened since the last call). */
  async archive(): Promise<Archive> {
    if (!this.#stale) return this.#archive;
    this.#reopening ??= (async () => {
      const wait = 250 - (Date.now() - this.#lastOpen);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.#stale = false;
      const next = await Archive.open(this.dir, { mode: "read", warn: () => {} });
      const old = this.#archive;
      this.#archive = next;
      this.#lastOpen = Date.now();
      await old.close();
      return next;
    })().finally(() => { this.#reopening = null; });
    return this.#reopening;
  }

  /** The archive opened last, stale or not (for cheap reads of records that never change, e.g. code). */
  get snapshot(): Archive {
    return this.#archive;
  }

  get steering(): SteeringState {
    return this.#steeringState;
  }

  /** The motivation, lower-cased, read once per experiment (written with the proposal, never changed after). */
  async motivation(id: string): Promise<string> {
    let text = this.#motivations.get(id);
    if (text === undefined) {
      const read = await this.#archive.readText(id, "motivation");
      text = (read ?? "").toLowerCase();
      // a motivation not written yet is looked for again next time
      if (read !== null || !inFlight(this.rows.rows.get(id) ?? ({ status: "done" } as Row))) this.#motivations.set(id, text);
    }
    return text;
  }

  subscribe(fn: (e: ViewEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async close(): Promise<void> {
    for (const stop of this.#stops) stop();
    this.#listeners.clear();
    await this.#archive.close();
  }

  #emit(e: ViewEvent): void {
    for (const fn of this.#listeners) fn(e);
  }

  #readJournal(): void {
    const { lines } = this.#journal.read();
    if (!lines.length) return;
    this.#stale = true;
    for (const line of lines) {
      let op: { op?: string; table?: string; record?: { id?: string } };
      try {
        op = JSON.parse(line);
      } catch {
        continue; // the archive's own readers name a corrupt line; the view just skips it
      }
      if (op.op !== "put" || !op.record) continue;
      if (op.table === "experiments") {
        const parsed = Experiment.safeParse(op.record);
        if (!parsed.success) continue;
        const row = rowOf(parsed.data);
        this.rows.upsert(row);
        if (inFlight(row)) this.#follow(row.id);
        this.#emit({ type: "experiment", row });
      } else if (op.table === "campaigns" || op.table === "ledger") {
        const id = op.table === "campaigns" ? op.record.id : (op.record as { campaign?: string }).campaign;
        if (typeof id === "string") this.#emit({ type: "campaign", id });
      }
    }
  }

  #readSteering(): void {
    const { lines } = this.#steeringTail.read();
    if (!lines.length) return;
    let added: SteeringAction[];
    try {
      added = parseSteeringLines(this.dir, lines);
    } catch {
      return;
    }
    this.#steering.push(...added);
    this.#steeringState = foldSteering(this.#steering);
    for (const record of added) this.#emit({ type: "steering", record });
  }

  #follow(id: string): void {
    if (this.#live.has(id)) return;
    this.#live.set(id, new LineTail(path.join(this.dir, "runs", id, LIVE_STAGE, LIVE_FILE)));
  }

  /** New progress lines of in-flight experiments (a stat each); finished ones are dropped. */
  #readLive(): void {
    for (const [id, tail] of this.#live) {
      for (const line of tail.read().lines) {
        try {
          const progress = { id, ...(JSON.parse(line) as Omit<Progress, "id">) };
          this.progress.set(id, progress);
          this.#emit({ type: "progress", progress });
        } catch {
          // a display line; skip what does not parse
        }
      }
      const row = this.rows.rows.get(id);
      if (row && !inFlight(row)) {
        this.#live.delete(id);
        this.progress.delete(id);
      }
    }
  }
}
