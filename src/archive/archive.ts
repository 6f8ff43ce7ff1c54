/**
 * The archive (DESIGN §6): experiments, campaigns, ledger and notes as small records in a journalled lowdb store
 * (store.ts); code and long text out of line (files.ts); provenance in git (git.ts); one writer (lock.ts).
 *
 * Reads are synchronous, from memory, with indexes by id, genome key, fingerprint and parent. Every record is
 * validated against its contract the first time it is read (a corrupt one throws ArchiveCorruptError naming
 * the archive and the record) and handed out frozen. Writes are async, validated, durable when they return.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import {
  Campaign, Experiment, LedgerEntry, Note, Transition, ZERO_COSTS, type ExperimentStatus,
} from "../contracts/experiment.ts";
import { LockedError } from "../errors.ts";
import { ArchiveCorruptError, NoArchiveError } from "./errors.ts";
import { ContentFiles } from "./files.ts";
import { ArchiveGit, diffFiles } from "./git.ts";
import { WriterLock } from "./lock.ts";
import { firstIssue } from "../errors.ts";
import { JournalStore, SNAPSHOT_FILE, type ExperimentSummary, type StoredRecord, type Table } from "./store.ts";

export type ArchiveMode = "read" | "write";

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

type TransitionRecord = z.infer<typeof Transition>;
const REQUIRED = ["name", "parentId", "campaign", "proposer", "status"] as const;
/** What a caller gives to insert an experiment: the required fields; the rest default (id from newId()). */
export type NewExperiment = Pick<Experiment, (typeof REQUIRED)[number]> & Partial<Omit<Experiment, (typeof REQUIRED)[number]>>;
/** Top-level fields to replace; a status change appends a transition. */
export type ExperimentPatch = Partial<Omit<Experiment, "id" | "createdAt" | "transitions">>;
export type NewCampaign = Pick<Campaign, "name"> & Partial<Campaign>;
export type NewLedgerEntry = Omit<LedgerEntry, "id" | "at"> & Partial<Pick<LedgerEntry, "id" | "at">>;
export type NewNote = Pick<Note, "experimentId" | "text"> & Partial<Note>;

export type SortKey = "fitness" | "created" | "name" | "id";
export const SORT_KEYS: readonly SortKey[] = ["fitness", "created", "name", "id"];

export interface ExperimentFilter {
  status?: ExperimentStatus | readonly ExperimentStatus[];
  campaign?: string;
  proposer?: Experiment["proposer"];
}

export interface LeaderboardOptions extends ExperimentFilter {
  /** fitness: best first (ties by id); created: newest first; name: A-Z; id: oldest first. */
  sortBy?: SortKey;
  limit?: number;
  /** Leave out experiments without a fitness (default: true when sorting by fitness). */
  scoredOnly?: boolean;
}

const ID_PREFIX = { experiment: "e", campaign: "c", ledger: "l", note: "n" } as const;
export type IdKind = keyof typeof ID_PREFIX;
const TABLE_OF: Record<IdKind, Table> = { experiment: "experiments", campaign: "campaigns", ledger: "ledger", note: "notes" };
const SCHEMAS: Record<Table, z.ZodType> = { experiments: Experiment, campaigns: Campaign, ledger: LedgerEntry, notes: Note };
const RECORD_NAME: Record<Table, string> = { experiments: "experiment", campaigns: "campaign", ledger: "ledger entry", notes: "note" };

export function formatId(kind: IdKind, n: number): string {
  return `${ID_PREFIX[kind]}${String(n).padStart(6, "0")}`;
}

function idNumber(kind: IdKind, id: string): number | null {
  const match = new RegExp(`^${ID_PREFIX[kind]}(\\d+)$`).exec(id);
  return match ? Number(match[1]) : null;
}

export class Archive {
  readonly dir: string;
  readonly mode: ArchiveMode;
  readonly #store: JournalStore;
  readonly #files: ContentFiles;
  readonly #git: ArchiveGit | null;
  readonly #lock: WriterLock | null;
  readonly #now: () => Date;
  readonly #valid = new WeakSet<object>();
  /** Secondary indexes, built on first use (opening stays cheap for commands that never look things up). */
  #indexes: Indexes | null = null;
  #closed = false;

  private constructor(dir: string, mode: ArchiveMode, store: JournalStore, git: ArchiveGit | null, lock: WriterLock | null, now: () => Date) {
    this.dir = dir;
    this.mode = mode;
    this.#store = store;
    this.#files = new ContentFiles(dir, dir);
    this.#git = git;
    this.#lock = lock;
    this.#now = now;
  }

  /**
   * Opens the archive at `dir`. "write" creates it when missing and takes the writer lock (LockedError, exit 3,
   * when another live process holds it); "read" never locks or waits and fails with NoArchiveError when absent.
   */
  static async open(dir: string, opts: ArchiveOpenOptions): Promise<Archive> {
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
    fs.mkdirSync(dir, { recursive: true });
    const lock = await WriterLock.acquire(dir, { warn, now });
    try {
      const store = (await JournalStore.open(dir, { ...storeOptions, writable: true }))!;
      const git = await ArchiveGit.open(dir, true);
      return new Archive(dir, "write", store, git, lock, now);
    } catch (err) {
      await lock.release();
      throw err;
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

  stats(): { experiments: number; seq: number; snapshotBytes: number; journalBytes: number } {
    return { experiments: this.#store.summaries().length, ...this.#store.stats() };
  }

  /** A new id, durably reserved: "e000042" (experiments), "c…" campaigns, "l…" ledger, "n…" notes. */
  async newId(kind: IdKind = "experiment"): Promise<string> {
    this.#checkWritable();
    return formatId(kind, await this.#store.nextCounter(kind));
  }

  /** `count` new ids at once, durably reserved (one journal write). */
  async newIds(count: number, kind: IdKind = "experiment"): Promise<string[]> {
    this.#checkWritable();
    if (count <= 0) return [];
    const first = await this.#store.nextCounter(kind, count);
    return Array.from({ length: count }, (_, i) => formatId(kind, first + i));
  }

  // ---- experiments ----------------------------------------------------------------------------------------

  async insertExperiment(input: NewExperiment): Promise<Experiment> {
    this.#checkWritable();
    const now = this.#now().toISOString();
    // Built inside the write queue: a new id and the record go to the journal in one write.
    const record = await this.#store.insert("experiments", "experiment", (next) => {
      const built = this.#newExperiment(input, input.id ?? formatId("experiment", next), now);
      if (built.parentId !== null && !this.#store.summary(built.parentId)) {
        throw new Error(`experiment ${built.id}: parent ${built.parentId} is not in archive ${this.dir}`);
      }
      if (this.#store.summary(built.id)) throw new Error(`experiment ${built.id} is already in archive ${this.dir}`);
      return built;
    }, (r) => idNumber("experiment", r.id));
    this.#index(this.#store.summary(record.id)!, undefined);
    return record as Experiment;
  }

  /**
   * Inserts many experiments with one journal write (bulk imports). All are validated first; a parent may be
   * in the archive or earlier in the batch. Ids default to fresh ones.
   */
  async insertExperiments(inputs: readonly NewExperiment[]): Promise<Experiment[]> {
    this.#checkWritable();
    const missing = inputs.filter((input) => input.id === undefined).length;
    const ids = await this.newIds(missing);
    const at = this.#now().toISOString();
    const batch = new Set<string>();
    const records = inputs.map((input) => {
      const record = this.#newExperiment(input, input.id ?? ids.shift()!, at);
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
    for (const record of records) this.#index(this.#store.summary(record.id)!, undefined);
    return records;
  }

  /** Replaces the patched top-level fields; a status change appends {status, at, note} to the transitions. */
  async updateExperiment(id: string, patch: ExperimentPatch, opts: { note?: string } = {}): Promise<Experiment> {
    this.#checkWritable();
    this.requireExperiment(id);
    let before: ExperimentSummary | undefined;
    // Read, patch and write inside the store's queue, so concurrent updates never lose each other's fields.
    const record = await this.#store.modify("experiments", id, (raw) => {
      const previous = this.#read<Experiment>("experiments", raw!);
      const at = this.#now().toISOString();
      const transitions: TransitionRecord[] = [...previous.transitions];
      if (patch.status !== undefined && patch.status !== previous.status) {
        transitions.push(opts.note === undefined ? { status: patch.status, at } : { status: patch.status, at, note: opts.note });
      }
      before = this.#store.summary(id);
      return this.#parseInput(Experiment, { ...previous, ...patch, id, createdAt: previous.createdAt, transitions, updatedAt: at }, "experiment");
    });
    this.#index(this.#store.summary(id)!, before);
    return record as Experiment;
  }

  getExperiment(id: string): Experiment | undefined {
    const raw = this.#store.get("experiments", id);
    return raw === undefined ? undefined : this.#read("experiments", raw);
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

  /** The in-memory summaries (id, name, parent, campaign, proposer, status, fitness, keys, createdAt), oldest first. */
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
    const sortBy = opts.sortBy ?? "fitness";
    const scoredOnly = opts.scoredOnly ?? sortBy === "fitness";
    const match = matcher(opts);
    const compare = COMPARATORS[sortBy];
    const limit = opts.limit ?? Infinity;
    const all = this.#store.summaries();
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
    return ranked.map((summary) => this.getExperiment(summary.id)!);
  }

  /** Direct children, oldest first. */
  children(id: string): Experiment[] {
    return this.#lookup("children", id).map((childId) => this.getExperiment(childId)!);
  }

  /** One experiment's in-memory summary (no body read). */
  summary(id: string): ExperimentSummary | undefined {
    return this.#store.summary(id);
  }

  /** Direct children's summaries, oldest first: for walking big trees without reading bodies. */
  childSummaries(id: string): ExperimentSummary[] {
    return this.#lookup("children", id).map((childId) => this.#store.summary(childId)!);
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
    return this.#lookup("genomeKey", key).map((id) => this.getExperiment(id)!);
  }

  findByFingerprint(fingerprint: string): Experiment[] {
    return this.#lookup("fingerprint", fingerprint).map((id) => this.getExperiment(id)!);
  }

  // ---- code, text, runs, git --------------------------------------------------------------------------------

  /** Stores candidate code under its sha256; returns the hash. */
  putCode(text: string): Promise<string> {
    this.#checkWritable();
    return this.#files.putCode(text);
  }

  readCode(hash: string): Promise<string> {
    return this.#files.readCode(hash);
  }

  codePath(hash: string): string {
    return this.#files.codePath(hash);
  }

  /** Long text out of line: texts/<id>/<kind>.md (kinds: motivation, analysis, experience, log, ...). */
  writeText(id: string, kind: string, text: string): Promise<string> {
    this.#checkWritable();
    return this.#files.writeText(id, kind, text);
  }

  /** The text, or null when none was written. */
  readText(id: string, kind: string): Promise<string | null> {
    return this.#files.readText(id, kind);
  }

  textKinds(id: string): string[] {
    return this.#files.textKinds(id);
  }

  textPath(id: string, kind: string): string {
    return this.#files.textPath(id, kind);
  }

  /** runs/<id>/<stage>/, created; the runner writes its log and result file there. */
  runDir(id: string, stage: string): string {
    const dir = this.#files.runDir(id, stage);
    if (this.mode === "write") fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Stores `code` and commits it as layer.py on top of `parentCommit` (the archive's root commit when null).
   * When the experiment is in the archive its codeHash and commit are recorded. Returns the commit sha.
   */
  async commitCandidate(id: string, code: string, message: string, parentCommit: string | null): Promise<string> {
    this.#checkWritable();
    const hash = await this.#files.putCode(code);
    const commit = await this.#git!.commit(id, this.#files.codePath(hash), `${message.trim()}\n\nArchlab-Experiment: ${id}\n`, parentCommit);
    if (this.#store.summary(id)) await this.updateExperiment(id, { codeHash: hash, commit });
    return commit;
  }

  /** Tags the experiment's commit (e.g. "promoted/explore/e000042"). */
  async tagPromoted(id: string, tag: string): Promise<void> {
    this.#checkWritable();
    const experiment = this.requireExperiment(id);
    if (!experiment.commit) throw new NoArchiveError(`experiment ${id} has no commit to tag`);
    await this.#git!.tag(tag, experiment.commit);
  }

  /** Tags on the experiment's commit. */
  async tags(id: string): Promise<string[]> {
    const experiment = this.requireExperiment(id);
    return experiment.commit && this.#git ? this.#git.tags(experiment.commit) : [];
  }

  /** Unified diff of two candidates' code: git's diff of their commits, else of their code files. */
  async diff(a: string, b: string): Promise<string> {
    const from = this.requireExperiment(a);
    const to = this.requireExperiment(b);
    if (from.commit && to.commit && this.#git) return this.#git.diff(from.commit, to.commit);
    for (const e of [from, to]) {
      if (!e.codeHash) throw new NoArchiveError(`experiment ${e.id} has no code in archive ${this.dir}`);
    }
    return diffFiles(this.dir, path.relative(this.dir, this.codePath(from.codeHash!)), path.relative(this.dir, this.codePath(to.codeHash!)));
  }

  // ---- campaigns, ledger, notes -------------------------------------------------------------------------------

  async insertCampaign(input: NewCampaign): Promise<Campaign> {
    this.#checkWritable();
    const defaults = { startedAt: this.#now().toISOString(), endedAt: null, config: {}, stopReason: null };
    return this.#insertSmall("campaigns", "campaign", Campaign, "campaign", { ...defaults, ...input });
  }

  async updateCampaign(id: string, patch: Partial<Omit<Campaign, "id">>): Promise<Campaign> {
    this.#checkWritable();
    if (!this.getCampaign(id)) throw new NoArchiveError(`no campaign ${id} in archive ${this.dir}`);
    const record = await this.#store.modify("campaigns", id, (raw) =>
      this.#parseInput(Campaign, { ...this.#read<Campaign>("campaigns", raw!), ...patch, id }, "campaign"));
    return record as Campaign;
  }

  getCampaign(id: string): Campaign | undefined {
    const raw = this.#store.get("campaigns", id);
    return raw === undefined ? undefined : this.#read("campaigns", raw);
  }

  campaigns(): Campaign[] {
    return this.#store.all("campaigns").map((raw) => this.#read("campaigns", raw));
  }

  async appendLedger(input: NewLedgerEntry): Promise<LedgerEntry> {
    this.#checkWritable();
    return this.#insertSmall("ledger", "ledger", LedgerEntry, "ledger entry", { at: this.#now().toISOString(), ...input });
  }

  ledger(filter: { campaign?: string; experimentId?: string } = {}): LedgerEntry[] {
    return this.#store.all("ledger")
      .filter((raw) => (filter.campaign === undefined || raw.campaign === filter.campaign)
        && (filter.experimentId === undefined || raw.experimentId === filter.experimentId))
      .map((raw) => this.#read("ledger", raw));
  }

  async addNote(input: NewNote): Promise<Note> {
    this.#checkWritable();
    this.requireExperiment(input.experimentId);
    return this.#insertSmall("notes", "note", Note, "note", { at: this.#now().toISOString(), pinned: false, ...input });
  }

  async updateNote(id: string, patch: Partial<Pick<Note, "text" | "pinned">>): Promise<Note> {
    this.#checkWritable();
    if (!this.#store.get("notes", id)) throw new NoArchiveError(`no note ${id} in archive ${this.dir}`);
    const record = await this.#store.modify("notes", id, (raw) =>
      this.#parseInput(Note, { ...this.#read<Note>("notes", raw!), ...patch, id }, "note"));
    return record as Note;
  }

  /** Notes, oldest first; only one experiment's when given. */
  notes(experimentId?: string): Note[] {
    return this.#store.all("notes")
      .filter((raw) => experimentId === undefined || raw.experimentId === experimentId)
      .map((raw) => this.#read("notes", raw));
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  #checkWritable(): void {
    if (this.mode !== "write") throw new Error(`archive ${this.dir} was opened read-only`);
    if (this.#closed) throw new Error(`archive ${this.dir} is closed`);
    const lost = this.#lock?.lost;
    if (lost) throw new LockedError(`archive ${this.dir}: this process lost the writer lock (${lost.message})`);
  }

  /** Validates and inserts a campaign, ledger entry or note, with a fresh id when it has none: one journal write. */
  async #insertSmall<T extends StoredRecord>(table: Table, kind: IdKind, schema: z.ZodType<T>, what: string, input: { id?: string }): Promise<T> {
    const record = await this.#store.insert(table, kind, (next) => {
      const built = this.#parseInput(schema, { ...input, id: input.id ?? formatId(kind, next) }, what);
      if (this.#store.get(table, built.id)) throw new Error(`${what} ${built.id} is already in archive ${this.dir}`);
      return built;
    }, (r) => idNumber(kind, r.id));
    return record as T;
  }

  #newExperiment(input: NewExperiment, id: string, now: string): Experiment {
    const createdAt = input.createdAt ?? now;
    return this.#parseInput(Experiment, {
      genome: null, genomeKey: null, change: null, codeHash: null, commit: null, fingerprint: null,
      stages: {}, fitness: null, costs: ZERO_COSTS, reason: null,
      transitions: [{ status: input.status, at: createdAt }],
      updatedAt: createdAt,
      ...input,
      id,
      createdAt,
    }, "experiment");
  }

  /** Validates a record the first time it is read; hands it out frozen. */
  #read<T>(table: Table, raw: StoredRecord): T {
    if (!this.#valid.has(raw)) {
      const parsed = SCHEMAS[table].safeParse(raw);
      if (!parsed.success) {
        throw new ArchiveCorruptError(`archive ${this.dir}: ${RECORD_NAME[table]} ${raw.id} is invalid (${firstIssue(parsed.error)})`);
      }
      deepFreeze(raw);
      this.#valid.add(raw);
    }
    return raw as unknown as T;
  }

  /**
   * Validates a record to write. It goes through JSON first, so what is kept in memory is exactly what a reader
   * will parse from disk, and nothing is shared with (or frozen in) the caller's objects.
   */
  #parseInput<T extends StoredRecord>(schema: z.ZodType<T>, value: unknown, what: string): T {
    const parsed = schema.safeParse(JSON.parse(JSON.stringify(value)));
    if (!parsed.success) {
      const id = (value as { id?: unknown }).id;
      throw new Error(`invalid ${what} ${String(id)} for archive ${this.dir}: ${firstIssue(parsed.error)}`);
    }
    const record = deepFreeze(parsed.data);
    this.#valid.add(record);
    return record;
  }

  async #raiseCounter(kind: IdKind, id: string): Promise<void> {
    const n = idNumber(kind, id);
    if (n !== null && n > this.#store.counter(kind)) await this.#store.raiseCounter(kind, n);
  }

  /** Keeps the indexes (when built) in step with a written summary. */
  #index(summary: ExperimentSummary, previous: ExperimentSummary | undefined): void {
    if (!this.#indexes) return;
    for (const [name, index] of Object.entries(this.#indexes) as [keyof Indexes, MultiMap][]) {
      const before = previous?.[INDEXED[name]] ?? null;
      const after = summary[INDEXED[name]];
      if (before === after) continue;
      if (before !== null) index.remove(before, summary.id);
      if (after !== null) index.add(after, summary.id);
    }
  }

  #lookup(name: keyof Indexes, key: string): string[] {
    if (!this.#indexes) {
      const indexes: Indexes = { genomeKey: new MultiMap(), fingerprint: new MultiMap(), children: new MultiMap() };
      for (const summary of this.#store.summaries()) {
        if (summary.genomeKey !== null) indexes.genomeKey.add(summary.genomeKey, summary.id);
        if (summary.fingerprint !== null) indexes.fingerprint.add(summary.fingerprint, summary.id);
        if (summary.parentId !== null) indexes.children.add(summary.parentId, summary.id);
      }
      this.#indexes = indexes;
    }
    return this.#indexes[name].get(key).sort();
  }
}

interface Indexes {
  genomeKey: MultiMap;
  fingerprint: MultiMap;
  children: MultiMap;
}
const INDEXED = { genomeKey: "genomeKey", fingerprint: "fingerprint", children: "parentId" } as const;

/** key -> ids; a lone id is stored bare (most genome keys and fingerprints are unique), more in an array. */
class MultiMap {
  readonly #map = new Map<string, string | string[]>();

  add(key: string, id: string): void {
    const current = this.#map.get(key);
    if (current === undefined) this.#map.set(key, id);
    else if (typeof current === "string") {
      if (current !== id) this.#map.set(key, [current, id]);
    } else if (current[current.length - 1] !== id) current.push(id); // callers never add an id twice to a key
  }

  remove(key: string, id: string): void {
    const current = this.#map.get(key);
    if (current === id) this.#map.delete(key);
    else if (Array.isArray(current)) {
      const rest = current.filter((x) => x !== id);
      if (rest.length === 0) this.#map.delete(key);
      else this.#map.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }

  get(key: string): string[] {
    const current = this.#map.get(key);
    return current === undefined ? [] : typeof current === "string" ? [current] : [...current];
  }
}

function matcher(filter: ExperimentFilter): (raw: ExperimentSummary) => boolean {
  const statuses = filter.status === undefined ? null : new Set(typeof filter.status === "string" ? [filter.status] : filter.status);
  return (raw) => (statuses === null || statuses.has(raw.status as ExperimentStatus))
    && (filter.campaign === undefined || raw.campaign === filter.campaign)
    && (filter.proposer === undefined || raw.proposer === filter.proposer);
}

type Summary = ExperimentSummary;
const byId = (a: Summary, b: Summary) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const COMPARATORS: Record<SortKey, (a: Summary, b: Summary) => number> = {
  fitness: (a, b) => {
    const fa = a.fitness;
    const fb = b.fitness;
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

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
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
