/**
 * The journal adapter under the archive's record store (store.ts): lowdb over an append-only journal, with experiment bodies kept out of db.json
 * and read on demand, so an insert costs one fsync'd line and opening parses only small summaries, however
 * large the archive grows. (Plain lowdb rewrites and re-parses the whole file.)
 *
 * Files in the archive directory:
 * - `db.json` (lowdb; written via steno, temp file + rename, then fsync'd): `{schema, seq, experimentsFile,
 *   experiments, campaigns, ledger, notes, counters}`. `experiments` holds one small *summary* per experiment
 *   (id, name, parent, campaign, proposer, status, fitness value and band, genome, genome key, change,
 *   mode, probe status, fingerprint, createdAt: contracts/experiment.ts) with `at: [offset, length]`, where its full record sits in
 *   `experimentsFile`. Summaries from before a field was kept are rebuilt from the bodies on open.
 * - `experiments.<seq>.jsonl`: the full experiment records as of that snapshot, one JSON object per line.
 * - `journal.jsonl`: a header `{"journal":"archlab.journal/1","base":S}`, then one op per line, each written and
 *   fdatasync'd before the call returns: `{"seq":n,"op":"put","table":"experiments","record":{...}}` (an upsert
 *   of the whole record) or `{"seq":n,"op":"counter","name":"experiment","value":42}`. Ops are idempotent.
 *
 * Open: read db.json, replay the journal's ops with seq > the snapshot's seq. A last line without its newline
 * is a torn append (the writer died mid-write, so its caller never saw success): ignored, and truncated by the
 * next writer. Any other bad line is corruption, and the error names the line.
 * Compaction (when the journal outgrows max(minBytes, ratio x snapshot bytes), and on close): write a new
 * experiments file (changed records serialised, unchanged ones copied as bytes), then db.json naming it (the
 * commit point), then replace the journal by a bare header based on the new seq, then delete the old
 * experiments file. A crash at any point leaves a db.json whose files exist; replay skips ops it already holds.
 * Readers never lock. They retry when a compaction lands between their reads of db.json, the experiments file
 * and the journal (a missing experiments file, or a journal based after the snapshot); an experiments file
 * unlinked while open stays readable.
 */
import fs from "node:fs";
import path from "node:path";
import type { Adapter } from "lowdb";
import { DataFile } from "lowdb/node";
import { z } from "zod";
import { ARCHIVE_SCHEMA, summarizeExperiment, type ExperimentSummary as SummaryFields } from "../contracts/experiment.ts";
import { firstIssue, UserError } from "../errors.ts";
import { fsyncPath, writeFileAtomicSync } from "../atomic.ts";
import { ArchiveCorruptError } from "./errors.ts";


export const JOURNAL_SCHEMA = "archlab.journal/1";
export const SNAPSHOT_FILE = "db.json";
export const JOURNAL_FILE = "journal.jsonl";
export const EXPERIMENTS_FILE = /^experiments\.(\d+)\.jsonl$/;

export const TABLES = ["experiments", "campaigns", "ledger", "notes"] as const;
export type Table = (typeof TABLES)[number];
/** Tables held whole in db.json. */
export type SmallTable = Exclude<Table, "experiments">;
const SMALL_TABLES: readonly SmallTable[] = ["campaigns", "ledger", "notes"];

/** A record as stored: checked for an id here; validated against its contract by the archive when read. */
export interface StoredRecord {
  readonly id: string;
  readonly [key: string]: unknown;
}

/** What the store keeps in memory per experiment (contracts/experiment.ts), with where its body is. */
export interface ExperimentSummary extends SummaryFields {
  /** [byte offset, byte length] of the full record in the snapshot's experiments file; null if not there yet. */
  at: [number, number] | null;
}

export interface ArchiveData {
  schema: typeof ARCHIVE_SCHEMA;
  /** The seq of the last op this state includes. */
  seq: number;
  experimentsFile: string | null;
  experiments: ExperimentSummary[];
  campaigns: StoredRecord[];
  ledger: StoredRecord[];
  notes: StoredRecord[];
  counters: Record<string, number>;
}

const Snapshot = z.object({
  schema: z.string(),
  seq: z.number().int().nonnegative(),
  experimentsFile: z.string().regex(EXPERIMENTS_FILE).nullable(),
  // Checked element by element below, without zod copying arrays of 100,000 records.
  experiments: z.custom<unknown[]>(Array.isArray, "expected an array"),
  campaigns: z.custom<unknown[]>(Array.isArray, "expected an array"),
  ledger: z.custom<unknown[]>(Array.isArray, "expected an array"),
  notes: z.custom<unknown[]>(Array.isArray, "expected an array"),
  counters: z.record(z.string(), z.number().int().nonnegative()),
});

const JournalHeader = z.object({ journal: z.literal(JOURNAL_SCHEMA), base: z.number().int().nonnegative() });

const RecordWithId = z.looseObject({ id: z.string().min(1) });
const Op = z.discriminatedUnion("op", [
  z.object({ seq: z.number().int().positive(), op: z.literal("put"), table: z.enum(TABLES), record: RecordWithId }),
  z.object({ seq: z.number().int().positive(), op: z.literal("counter"), name: z.string(), value: z.number().int().nonnegative() }),
]);
export type Op = z.infer<typeof Op>;
export type OpBody = Op extends infer T ? (T extends Op ? Omit<T, "seq"> : never) : never;

export function emptyData(): ArchiveData {
  return { schema: ARCHIVE_SCHEMA, seq: 0, experimentsFile: null, experiments: [], campaigns: [], ledger: [], notes: [], counters: {} };
}

/** The summary of a full experiment record (read defensively: the archive validates the record itself). */
export function summarize(record: StoredRecord, at: [number, number] | null = null): ExperimentSummary {
  return { ...summarizeExperiment(record), at };
}

/** Whether a summary from db.json predates the fields the proposers read (genome, change, fitnessBand, mode, probe). */
export function summaryIsOld(summary: ExperimentSummary): boolean {
  return !(["genome", "change", "fitnessBand", "mode", "probe"] as const).every((field) => field in summary);
}

export interface StoreOptions {
  writable: boolean;
  /** How the archive is named in errors and warnings (its path). */
  label: string;
  /** Compact when the journal exceeds max(compactMinBytes, compactRatio x snapshot bytes). */
  compactMinBytes?: number;
  compactRatio?: number;
  warn?: (message: string) => void;
}

interface JournalState {
  exists: boolean;
  base: number;
  /** Bytes up to and including the last newline. */
  validBytes: number;
  tornBytes: number;
}

/**
 * The lowdb adapter. read = db.json, with the experiments file opened and the journal's ops left in
 * `pendingOps` for the store to apply; write = db.json (steno) + fsync, then a fresh journal.
 */
export class JournalAdapter implements Adapter<ArchiveData> {
  readonly dir: string;
  readonly snapshotPath: string;
  readonly journalPath: string;
  journal: JournalState = { exists: false, base: 0, validBytes: 0, tornBytes: 0 };
  pendingOps: Op[] = [];
  /** The experiments file db.json names, open for reads. */
  records: { file: string; fd: number; bytes: number } | null = null;
  dbBytes = 0;
  journalBytes = 0;
  readonly #snapshotFile: DataFile<unknown>;
  readonly #label: string;
  #fd: number | null = null;

  constructor(dir: string, label: string) {
    this.dir = dir;
    this.snapshotPath = path.join(dir, SNAPSHOT_FILE);
    this.journalPath = path.join(dir, JOURNAL_FILE);
    this.#label = label;
    this.#snapshotFile = new DataFile<unknown>(this.snapshotPath, {
      parse: (text) => {
        this.dbBytes = Buffer.byteLength(text);
        try {
          return JSON.parse(text) as unknown;
        } catch (err) {
          throw new ArchiveCorruptError(`archive ${label}: ${SNAPSHOT_FILE} is not valid JSON (${(err as Error).message})`);
        }
      },
      stringify: (data) => {
        const text = JSON.stringify(data);
        this.dbBytes = Buffer.byteLength(text);
        return text;
      },
    });
  }

  get snapshotBytes(): number {
    return this.dbBytes + (this.records?.bytes ?? 0);
  }

  async read(): Promise<ArchiveData | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = await this.#snapshotFile.read();
      if (raw === null) return null;
      const data = this.#checkSnapshot(raw);
      const records = data.experimentsFile ? openRecords(path.join(this.dir, data.experimentsFile)) : null;
      const { state, ops } = records === undefined ? { state: null, ops: [] } : this.#readJournal();
      if (records === undefined || (state!.exists && state!.base > data.seq)) {
        // A compaction landed between our reads: read again.
        if (records) fs.closeSync(records.fd);
        await new Promise((resolve) => setTimeout(resolve, 10 * (attempt + 1)));
        continue;
      }
      this.closeRecords();
      this.records = records === null ? null : { file: data.experimentsFile!, ...records };
      this.journal = state!;
      this.journalBytes = state!.validBytes;
      this.pendingOps = ops;
      return data;
    }
    throw new UserError(`archive ${this.#label}: could not read a consistent snapshot (a writer keeps compacting)`);
  }

  /** db.json, then a fresh journal based on its seq. (The experiments file is written before, by the store.) */
  async write(data: ArchiveData): Promise<void> {
    await this.#snapshotFile.write(data);
    fsyncPath(this.snapshotPath);
    fsyncPath(this.dir);
    const appending = this.#fd !== null;
    this.closeJournal();
    const header = JSON.stringify({ journal: JOURNAL_SCHEMA, base: data.seq }) + "\n";
    writeFileAtomicSync(this.journalPath, header);
    this.journal = { exists: true, base: data.seq, validBytes: header.length, tornBytes: 0 };
    this.journalBytes = header.length;
    if (appending) this.#fd = fs.openSync(this.journalPath, "a");
  }

  /** Writer start-up: drop a torn tail, make sure a journal exists, open it for appends. */
  openForAppend(seq: number, warn: (message: string) => void): void {
    if (!this.journal.exists) {
      const header = JSON.stringify({ journal: JOURNAL_SCHEMA, base: seq }) + "\n";
      writeFileAtomicSync(this.journalPath, header);
      this.journal = { exists: true, base: seq, validBytes: header.length, tornBytes: 0 };
      this.journalBytes = header.length;
    } else if (this.journal.tornBytes > 0) {
      warn(`archive ${this.#label}: dropped a torn last journal line (${this.journal.tornBytes} bytes from an interrupted write)`);
      fs.truncateSync(this.journalPath, this.journal.validBytes);
      this.journal = { ...this.journal, tornBytes: 0 };
    }
    this.#fd = fs.openSync(this.journalPath, "a");
  }

  /** Ops, durably: returns after their lines are on disk (one write, one fdatasync). */
  append(ops: readonly Op[]): void {
    if (this.#fd === null) throw new Error(`archive ${this.#label}: journal is not open for writing`);
    const bytes = Buffer.from(ops.map((op) => JSON.stringify(op) + "\n").join(""));
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.#fd, bytes, written);
    fs.fdatasyncSync(this.#fd);
    this.journalBytes += bytes.length;
  }

  /** The full record at [offset, length] of the open experiments file. */
  readRecord(id: string, at: [number, number]): unknown {
    if (!this.records) throw new ArchiveCorruptError(`archive ${this.#label}: experiment ${id} points into a missing experiments file`);
    const buffer = Buffer.alloc(at[1]);
    const read = fs.readSync(this.records.fd, buffer, 0, at[1], at[0]);
    try {
      if (read !== at[1]) throw new Error("short read");
      return JSON.parse(buffer.toString("utf8")) as unknown;
    } catch {
      throw new ArchiveCorruptError(`archive ${this.#label}: experiment ${id} is unreadable in ${this.records.file} at byte ${at[0]}`);
    }
  }

  /** Reads the whole experiments file (compaction copies unchanged records from it). */
  readAllRecords(): Buffer | null {
    if (!this.records) return null;
    const buffer = Buffer.alloc(this.records.bytes);
    let read = 0;
    while (read < buffer.length) {
      const n = fs.readSync(this.records.fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer;
  }

  /** Switches reads to a newly written experiments file; returns the one it replaces. */
  useRecords(file: string): string | null {
    const previous = this.records?.file ?? null;
    this.closeRecords();
    const opened = openRecords(path.join(this.dir, file));
    if (!opened) throw new Error(`archive ${this.#label}: ${file} vanished after it was written`);
    this.records = { file, ...opened };
    return previous;
  }

  closeRecords(): void {
    if (this.records) fs.closeSync(this.records.fd);
    this.records = null;
  }

  closeJournal(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  #checkSnapshot(raw: unknown): ArchiveData {
    const parsed = Snapshot.safeParse(raw);
    if (!parsed.success) {
      if (typeof raw === "object" && raw !== null && "schema" in raw && raw.schema !== ARCHIVE_SCHEMA) {
        throw new UserError(`archive ${this.#label} has schema "${String(raw.schema)}"; this archlab reads "${ARCHIVE_SCHEMA}"`);
      }
      throw new ArchiveCorruptError(`archive ${this.#label}: ${SNAPSHOT_FILE} is malformed (${firstIssue(parsed.error)})`);
    }
    if (parsed.data.schema !== ARCHIVE_SCHEMA) {
      throw new UserError(`archive ${this.#label} has schema "${parsed.data.schema}"; this archlab reads "${ARCHIVE_SCHEMA}"`);
    }
    const data = parsed.data as ArchiveData;
    data.experiments.forEach((summary, i) => {
      if (!isSummary(summary)) {
        const id = (summary as { id?: unknown } | null)?.id;
        throw new ArchiveCorruptError(
          `archive ${this.#label}: ${SNAPSHOT_FILE} experiments[${i}]${typeof id === "string" ? ` (${id})` : ""} is malformed`,
        );
      }
    });
    for (const table of SMALL_TABLES) {
      data[table].forEach((record, i) => {
        if (typeof record !== "object" || record === null || typeof record.id !== "string") {
          throw new ArchiveCorruptError(`archive ${this.#label}: ${SNAPSHOT_FILE} ${table}[${i}] has no id`);
        }
      });
    }
    return data;
  }

  #readJournal(): { state: JournalState; ops: Op[] } {
    let buffer: Buffer;
    try {
      buffer = fs.readFileSync(this.journalPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        return { state: { exists: false, base: 0, validBytes: 0, tornBytes: 0 }, ops: [] };
      }
      throw err;
    }
    const validBytes = buffer.lastIndexOf(0x0a) + 1;
    const lines = buffer.subarray(0, validBytes).toString("utf8").split("\n");
    lines.pop(); // the empty string after the last newline
    const state: JournalState = { exists: true, base: 0, validBytes, tornBytes: buffer.length - validBytes };
    if (lines.length === 0) return { state, ops: [] };
    const header = JournalHeader.safeParse(parseLine(lines[0]!));
    if (!header.success) throw new ArchiveCorruptError(`archive ${this.#label}: ${JOURNAL_FILE} line 1 is not a journal header`);
    state.base = header.data.base;
    const ops: Op[] = [];
    for (let i = 1; i < lines.length; i++) {
      const op = Op.safeParse(parseLine(lines[i]!));
      if (!op.success) {
        throw new ArchiveCorruptError(`archive ${this.#label}: ${JOURNAL_FILE} line ${i + 1} is not a valid op (${firstIssue(op.error)})`);
      }
      ops.push(op.data);
    }
    return { state, ops };
  }
}

function isSummary(value: unknown): value is ExperimentSummary {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  const at = s.at;
  return typeof s.id === "string" && typeof s.status === "string" && typeof s.createdAt === "string"
    && (s.fitness === null || typeof s.fitness === "number")
    && (s.parentId === null || typeof s.parentId === "string")
    && (at === null || (Array.isArray(at) && at.length === 2 && Number.isInteger(at[0]) && Number.isInteger(at[1])));
}

/** Opens an experiments file; undefined when it is gone (replaced by a compaction). */
function openRecords(file: string): { fd: number; bytes: number } | undefined {
  try {
    const fd = fs.openSync(file, "r");
    return { fd, bytes: fs.fstatSync(fd).size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
