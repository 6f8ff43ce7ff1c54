/**
 * The archive (DESIGN §6): experiments, campaigns, ledger and notes as small records in a journalled lowdb store
 * (store.ts over journal.ts); code, long text and git provenance beside them (content.ts: files.ts, git.ts); one
 * writer (lock.ts). Ids in ids.ts, record validation in records.ts, indexes in indexes.ts, queries in queries.ts.
 *
 * Reads are synchronous, from memory, with indexes by id, genome key, fingerprint and parent. Every record is
 * validated against its contract the first time it is read (a corrupt one throws ArchiveCorruptError naming
 * the archive and the record) and handed out frozen. Writes are async, validated, durable when they return.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { Campaign, Experiment, LedgerEntry, Note } from "../contracts/experiment.ts";
import { fileUserError, LockedError } from "../errors.ts";
import { ArchiveCorruptError, NoArchiveError } from "./errors.ts";
import { ContentFiles } from "./files.ts";
import { ArchiveGit } from "./git.ts";
import { ArchiveContent } from "./content.ts";
import { WriterLock } from "./lock.ts";
import { JournalStore, SNAPSHOT_FILE, type ExperimentSummary, type StoredRecord, type Table } from "./store.ts";
import { formatId, idNumber, type IdKind } from "./ids.ts";
import { experimentRecord, RecordCheck, type TransitionRecord, type ExperimentPatch, type NewCampaign, type NewExperiment, type NewLedgerEntry, type NewNote } from "./records.ts";
import { SummaryIndexes } from "./indexes.ts";
import { matcher, rankSummaries, type ExperimentFilter, type LeaderboardOptions } from "./queries.ts";

export { formatId, type IdKind } from "./ids.ts";
export type { ExperimentPatch, NewCampaign, NewExperiment, NewLedgerEntry, NewNote } from "./records.ts";
export { SORT_KEYS, type ExperimentFilter, type LeaderboardOptions, type SortKey } from "./queries.ts";

export type { ArchiveMode } from "./content.ts";
import type { ArchiveMode } from "./content.ts";

export interface ArchiveOpenOptions {
  mode: ArchiveMode;
  /** The clock for timestamps (tests pass a fixed one). */
  now?: () => Date;
  /** Where warnings go (stale-lock takeover, a torn journal line); stderr by default. */
  warn?: (message: string) => void;
  /** Journal compaction thresholds (store.ts). */
  compactMinBytes?: number;
  compactRatio?: number;
}






export class Archive extends ArchiveContent {
  readonly #store: JournalStore;
  readonly #lock: WriterLock | null;
  readonly #now: () => Date;
  readonly #check: RecordCheck;
  /** Secondary indexes, built on first use (opening stays cheap for commands that never look things up). */
  readonly #indexes: SummaryIndexes;
  #closed = false;

  private constructor(dir: string, mode: ArchiveMode, store: JournalStore, git: ArchiveGit | null, lock: WriterLock | null, now: () => Date) {
    super(dir, mode, new ContentFiles(dir, dir), git);
    this.#check = new RecordCheck(dir);
    this.#store = store;
    this.#indexes = new SummaryIndexes(() => store.summaries());
    this.#lock = lock;
    this.#now = now;
  }

  /**
   * Opens the archive at `dir`. "write" creates it when missing and takes the writer lock (LockedError, exit 3,
   * when another live process holds it); "read" never locks or waits and fails with NoArchiveError when absent.
   */
  static async open(dirArg: string, opts: ArchiveOpenOptions): Promise<Archive> {
    // Resolved once, here: every path derived from it (git's temp files, run dirs, code files) crosses into
    // child processes (git, the harness, bwrap) that run in other working directories.
    const dir = path.resolve(dirArg);
    const warn = opts.warn ?? ((message: string) => process.stderr.write(`archlab: warning: ${message}\n`));
    const now = opts.now ?? (() => new Date());
    const storeOptions = { label: dir, warn, compactMinBytes: opts.compactMinBytes, compactRatio: opts.compactRatio };
    if (opts.mode === "read") {
      if (!fs.existsSync(path.join(dir, SNAPSHOT_FILE))) {
        throw new NoArchiveError(`no archive at ${dir} (run \`archlab run\` to make one, or pass --archive DIR)`);
      }
      const store = await JournalStore.open(dir, { ...storeOptions, writable: false });
      if (!store) throw new NoArchiveError(`no archive at ${dir}`);
      return new Archive(dir, "read", store, await ArchiveGit.open(dir, false), null, now);
    }
    let lock: WriterLock;
    try {
      fs.mkdirSync(dir, { recursive: true });
      lock = await WriterLock.acquire(dir, { warn, now });
    } catch (err) {
      throw fileUserError(err, `cannot write archive ${dir}`) ?? err;
    }
    try {
      const store = (await JournalStore.open(dir, { ...storeOptions, writable: true }))!;
      const git = await ArchiveGit.open(dir, true);
      return new Archive(dir, "write", store, git, lock, now);
    } catch (err) {
      await lock.release();
      throw fileUserError(err, `cannot write archive ${dir}`) ?? err;
    }
  }

  /** Compacts the journal (writers) and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // A writer that lost its lock must not rewrite files another writer now owns.
      await this.#store.close({ compact: !this.#lock?.lost });
    } finally {
      await this.#lock?.release();
    }
  }

  /** Who holds the lock (this process, for a writer). */
  get writer() {
    return this.#lock?.info ?? null;
  }

  /** Sizes, and `bodyReads`: experiment bodies read from disk so far (hot paths should read summaries instead). */
  stats(): { experiments: number; seq: number; snapshotBytes: number; journalBytes: number; bodyReads: number } {
    return { experiments: this.#store.summaries().length, ...this.#store.stats() };
  }

  /** A new id, durably reserved: "e000042" (experiments), "c…" campaigns, "l…" ledger, "n…" notes. */
  async newId(kind: IdKind = "experiment"): Promise<string> {
    this.checkWritable();
    return formatId(kind, await this.#store.nextCounter(kind));
  }

  /** `count` new ids at once, durably reserved (one journal write). */
  async newIds(count: number, kind: IdKind = "experiment"): Promise<string[]> {
    this.checkWritable();
    if (count <= 0) return [];
    const first = await this.#store.nextCounter(kind, count);
    return Array.from({ length: count }, (_, i) => formatId(kind, first + i));
  }

  // ---- experiments ----------------------------------------------------------------------------------------

  async insertExperiment(input: NewExperiment): Promise<Experiment> {
    this.checkWritable();
    const now = this.#now().toISOString();
    // Built inside the write queue: a new id and the record go to the journal in one write.
    const record = await this.#store.insert("experiments", "experiment", (next) => {
      const built = this.#check.input(Experiment, experimentRecord(input, input.id ?? formatId("experiment", next), now), "experiment");
      if (built.parentId !== null && !this.#store.summary(built.parentId)) {
        throw new Error(`experiment ${built.id}: parent ${built.parentId} is not in archive ${this.dir}`);
      }
      if (this.#store.summary(built.id)) throw new Error(`experiment ${built.id} is already in archive ${this.dir}`);
      return built;
    }, (r) => idNumber("experiment", r.id));
    this.#indexes.update(this.#store.summary(record.id)!, undefined);
    return record as Experiment;
  }

  /**
   * Inserts many experiments with one journal write (bulk imports). All are validated first; a parent may be
   * in the archive or earlier in the batch. Ids default to fresh ones.
   */
  async insertExperiments(inputs: readonly NewExperiment[]): Promise<Experiment[]> {
    this.checkWritable();
    const missing = inputs.filter((input) => input.id === undefined).length;
    const ids = await this.newIds(missing);
    const at = this.#now().toISOString();
    const batch = new Set<string>();
    const records = inputs.map((input) => {
      const record = this.#check.input(Experiment, experimentRecord(input, input.id ?? ids.shift()!, at), "experiment");
      if (batch.has(record.id)) throw new Error(`experiment ${record.id} appears twice in the batch`);
      if (record.parentId !== null && !batch.has(record.parentId) && !this.#store.summary(record.parentId)) {
        throw new Error(`experiment ${record.id}: parent ${record.parentId} is not in archive ${this.dir}`);
      }
      batch.add(record.id);
      return record;
    });
    const highest = records.reduce((max, r) => Math.max(max, idNumber("experiment", r.id) ?? 0), 0);
    if (highest > 0) await this.#raiseCounter("experiment", formatId("experiment", highest));
    await this.#store.putMany("experiments", records, () => {
      const dup = records.find((r) => this.#store.summary(r.id));
      if (dup) throw new Error(`experiment ${dup.id} is already in archive ${this.dir}`);
    });
    for (const record of records) this.#indexes.update(this.#store.summary(record.id)!, undefined);
    return records;
  }

  /** Replaces the patched top-level fields; a status change appends {status, at, note} to the transitions. */
  async updateExperiment(id: string, patch: ExperimentPatch, opts: { note?: string } = {}): Promise<Experiment> {
    this.checkWritable();
    this.requireExperiment(id);
    let before: ExperimentSummary | undefined;
    // Read, patch and write inside the store's queue, so concurrent updates never lose each other's fields.
    const record = await this.#store.modify("experiments", id, (raw) => {
      const previous = this.#check.read<Experiment>("experiments", raw!);
      const at = this.#now().toISOString();
      const transitions: TransitionRecord[] = [...previous.transitions];
      if (patch.status !== undefined && patch.status !== previous.status) {
        transitions.push(opts.note === undefined ? { status: patch.status, at } : { status: patch.status, at, note: opts.note });
      }
      before = this.#store.summary(id);
      return this.#check.input(Experiment, { ...previous, ...patch, id, createdAt: previous.createdAt, transitions, updatedAt: at }, "experiment");
    });
    this.#indexes.update(this.#store.summary(id)!, before);
    return record as Experiment;
  }

  getExperiment(id: string): Experiment | undefined {
    const raw = this.#store.get("experiments", id);
    return raw === undefined ? undefined : this.#check.read("experiments", raw);
  }

  /** Like getExperiment, but a missing id is an error naming the archive. */
  requireExperiment(id: string): Experiment {
    const found = this.getExperiment(id);
    if (!found) throw new NoArchiveError(`no experiment ${id} in archive ${this.dir}`);
    return found;
  }

  count(): number {
    return this.#store.summaries().length;
  }

  /** The in-memory summaries (contracts/experiment.ts: status, parent, fitness and band, genome, change, keys, ...), oldest first. */
  summaries(): readonly ExperimentSummary[] {
    return this.#store.summaries();
  }

  /** All experiments matching the filter, oldest first. */
  experiments(filter: ExperimentFilter = {}): Experiment[] {
    const match = matcher(filter);
    const out: Experiment[] = [];
    for (const summary of this.#store.summaries()) if (match(summary)) out.push(this.getExperiment(summary.id)!);
    return out;
  }

  /** Ranked experiments; with a small limit this is one pass (top-k), not a sort of the whole archive. */
  leaderboard(opts: LeaderboardOptions = {}): Experiment[] {
    return rankSummaries(this.#store.summaries(), opts).map((summary) => this.getExperiment(summary.id)!);
  }

  /** Direct children, oldest first. */
  children(id: string): Experiment[] {
    return this.#indexes.lookup("children", id).map((childId) => this.getExperiment(childId)!);
  }

  /** One experiment's in-memory summary (no body read). */
  summary(id: string): ExperimentSummary | undefined {
    return this.#store.summary(id);
  }

  /** Direct children's summaries, oldest first: for walking big trees without reading bodies. */
  childSummaries(id: string): ExperimentSummary[] {
    return this.#indexes.lookup("children", id).map((childId) => this.#store.summary(childId)!);
  }

  /** Ancestors, nearest first (parent, grandparent, ..., root). */
  lineage(id: string): Experiment[] {
    const out: Experiment[] = [];
    const seen = new Set([id]);
    let current = this.requireExperiment(id);
    while (current.parentId !== null) {
      if (seen.has(current.parentId)) {
        throw new ArchiveCorruptError(`archive ${this.dir}: experiment ${id} has a cycle in its ancestry at ${current.parentId}`);
      }
      seen.add(current.parentId);
      const parent = this.getExperiment(current.parentId);
      if (!parent) throw new ArchiveCorruptError(`archive ${this.dir}: experiment ${current.id} names a missing parent ${current.parentId}`);
      out.push(parent);
      current = parent;
    }
    return out;
  }

  findByGenomeKey(key: string): Experiment[] {
    return this.#indexes.lookup("genomeKey", key).map((id) => this.getExperiment(id)!);
  }

  findByFingerprint(fingerprint: string): Experiment[] {
    return this.#indexes.lookup("fingerprint", fingerprint).map((id) => this.getExperiment(id)!);
  }

  // ---- campaigns, ledger, notes -------------------------------------------------------------------------------

  async insertCampaign(input: NewCampaign): Promise<Campaign> {
    this.checkWritable();
    const defaults = { startedAt: this.#now().toISOString(), endedAt: null, config: {}, stopReason: null };
    return this.#insertSmall("campaigns", "campaign", Campaign, "campaign", { ...defaults, ...input });
  }

  async updateCampaign(id: string, patch: Partial<Omit<Campaign, "id">>): Promise<Campaign> {
    this.checkWritable();
    if (!this.getCampaign(id)) throw new NoArchiveError(`no campaign ${id} in archive ${this.dir}`);
    const record = await this.#store.modify("campaigns", id, (raw) =>
      this.#check.input(Campaign, { ...this.#check.read<Campaign>("campaigns", raw!), ...patch, id }, "campaign"));
    return record as Campaign;
  }

  getCampaign(id: string): Campaign | undefined {
    const raw = this.#store.get("campaigns", id);
    return raw === undefined ? undefined : this.#check.read("campaigns", raw);
  }

  campaigns(): Campaign[] {
    return this.#store.all("campaigns").map((raw) => this.#check.read("campaigns", raw));
  }

  async appendLedger(input: NewLedgerEntry): Promise<LedgerEntry> {
    this.checkWritable();
    return this.#insertSmall("ledger", "ledger", LedgerEntry, "ledger entry", { at: this.#now().toISOString(), ...input });
  }

  ledger(filter: { campaign?: string; experimentId?: string } = {}): LedgerEntry[] {
    return this.#store.all("ledger")
      .filter((raw) => (filter.campaign === undefined || raw.campaign === filter.campaign)
        && (filter.experimentId === undefined || raw.experimentId === filter.experimentId))
      .map((raw) => this.#check.read("ledger", raw));
  }

  async addNote(input: NewNote): Promise<Note> {
    this.checkWritable();
    this.requireExperiment(input.experimentId);
    return this.#insertSmall("notes", "note", Note, "note", { at: this.#now().toISOString(), pinned: false, ...input });
  }

  async updateNote(id: string, patch: Partial<Pick<Note, "text" | "pinned">>): Promise<Note> {
    this.checkWritable();
    if (!this.#store.get("notes", id)) throw new NoArchiveError(`no note ${id} in archive ${this.dir}`);
    const record = await this.#store.modify("notes", id, (raw) =>
      this.#check.input(Note, { ...this.#check.read<Note>("notes", raw!), ...patch, id }, "note"));
    return record as Note;
  }

  /** Notes, oldest first; only one experiment's when given. */
  notes(experimentId?: string): Note[] {
    return this.#store.all("notes")
      .filter((raw) => experimentId === undefined || raw.experimentId === experimentId)
      .map((raw) => this.#check.read("notes", raw));
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  protected checkWritable(): void {
    if (this.mode !== "write") throw new Error(`archive ${this.dir} was opened read-only`);
    if (this.#closed) throw new Error(`archive ${this.dir} is closed`);
    const lost = this.#lock?.lost;
    if (lost) throw new LockedError(`archive ${this.dir}: this process lost the writer lock (${lost.message})`);
  }

  /** Validates and inserts a campaign, ledger entry or note, with a fresh id when it has none: one journal write. */
  async #insertSmall<T extends StoredRecord>(table: Table, kind: IdKind, schema: z.ZodType<T>, what: string, input: { id?: string }): Promise<T> {
    const record = await this.#store.insert(table, kind, (next) => {
      const built = this.#check.input(schema, { ...input, id: input.id ?? formatId(kind, next) }, what);
      if (this.#store.get(table, built.id)) throw new Error(`${what} ${built.id} is already in archive ${this.dir}`);
      return built;
    }, (r) => idNumber(kind, r.id));
    return record as T;
  }




  async #raiseCounter(kind: IdKind, id: string): Promise<void> {
    const n = idNumber(kind, id);
    if (n !== null && n > this.#store.counter(kind)) await this.#store.raiseCounter(kind, n);
  }

}






/** The archive directory commands use when not given --archive. */
export const DEFAULT_ARCHIVE_DIR = "archive/default";

/** Opens the archive, runs `fn`, and closes it whatever happens. */
export async function withArchive<T>(dir: string, opts: ArchiveOpenOptions, fn: (archive: Archive) => Promise<T> | T): Promise<T> {
  const archive = await Archive.open(dir, opts);
  try {
    return await fn(archive);
  } finally {
    await archive.close();
  }
}
