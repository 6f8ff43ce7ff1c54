/**
 * The archive's record store: lowdb's `Low` over the journal adapter (journal.ts: files, format, replay and
 * compaction), with an id index per table and a cache of experiment bodies.
 */
import fs from "node:fs";
import path from "node:path";
import { Low } from "lowdb";
import { ArchiveCorruptError } from "./errors.ts";
import {
  EXPERIMENTS_FILE, JOURNAL_FILE, JournalAdapter, TABLES, emptyData, summarize, summaryIsOld,
  type ArchiveData, type ExperimentSummary, type Op, type OpBody, type SmallTable, type StoreOptions, type StoredRecord, type Table,
} from "./journal.ts";

export { JOURNAL_FILE, SNAPSHOT_FILE, type ExperimentSummary, type StoredRecord, type Table } from "./journal.ts";

function indexTable(records: readonly { id: string }[]): Map<string, number> {
  const index = new Map<string, number>();
  records.forEach((record, i) => index.set(record.id, i));
  return index;
}

/**
 * The store the archive uses: lowdb's `Low` over the journal adapter, with an id index per table and a cache of
 * experiment bodies. Reads are synchronous; writes are serialised, journalled, then applied in memory.
 */
export class JournalStore {
  readonly #low: Low<ArchiveData>;
  readonly #adapter: JournalAdapter;
  readonly #label: string;
  readonly #writable: boolean;
  readonly #minBytes: number;
  readonly #ratio: number;
  readonly #positions = new Map<Table, Map<string, number>>();
  /** Experiment bodies read or written so far. */
  readonly #bodies = new Map<string, StoredRecord>();
  /** Experiments changed since the experiments file was written. */
  readonly #dirty = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Experiment bodies read from the experiments file (cache misses): what a hot path should keep near zero. */
  #bodyReads = 0;
  /** Summaries rebuilt from bodies on open (an older db.json): a writer writes them back on close. */
  #upgraded = false;

  private constructor(low: Low<ArchiveData>, adapter: JournalAdapter, opts: StoreOptions) {
    this.#low = low;
    this.#adapter = adapter;
    this.#label = opts.label;
    this.#writable = opts.writable;
    this.#minBytes = opts.compactMinBytes ?? 4 * 1024 * 1024;
    this.#ratio = opts.compactRatio ?? 0.1;
    for (const table of TABLES) this.#positions.set(table, indexTable(low.data[table]));
    const data = low.data;
    // A snapshot from before summaries carried genome, change and the fitness band: rebuilt once from the bodies
    // (the next compaction writes them to db.json).
    data.experiments.forEach((summary, i) => {
      if (!summaryIsOld(summary) || !summary.at) return;
      data.experiments[i] = summarize(adapter.readRecord(summary.id, summary.at) as StoredRecord, summary.at);
      this.#upgraded = true;
    });
    for (const op of adapter.pendingOps) {
      if (op.seq <= data.seq) continue; // already in the snapshot (a crash between db.json and the journal)
      if (op.seq !== data.seq + 1) {
        throw new ArchiveCorruptError(`archive ${opts.label}: ${JOURNAL_FILE} skips from op ${data.seq} to op ${op.seq}`);
      }
      this.#apply(op);
    }
    adapter.pendingOps = [];
  }

  /** Opens the store in `dir`. A writer creates it when missing; a reader gets null. */
  static async open(dir: string, opts: StoreOptions): Promise<JournalStore | null> {
    const adapter = new JournalAdapter(dir, opts.label);
    const low = new Low<ArchiveData>(adapter, emptyData());
    if (opts.writable && !fs.existsSync(adapter.snapshotPath)) {
      fs.mkdirSync(dir, { recursive: true });
      await low.write(); // an empty db.json and a journal based on it
    }
    if (!fs.existsSync(adapter.snapshotPath)) return null;
    await low.read();
    const store = new JournalStore(low, adapter, opts);
    if (opts.writable) {
      adapter.openForAppend(low.data.seq, opts.warn ?? (() => {}));
      removeStaleRecordFiles(dir, low.data.experimentsFile);
    }
    return store;
  }

  get seq(): number {
    return this.#low.data.seq;
  }

  stats(): { seq: number; snapshotBytes: number; journalBytes: number; bodyReads: number } {
    return { seq: this.seq, snapshotBytes: this.#adapter.snapshotBytes, journalBytes: this.#adapter.journalBytes, bodyReads: this.#bodyReads };
  }

  /** Experiment summaries, in insertion order (do not mutate). */
  summaries(): readonly ExperimentSummary[] {
    return this.#low.data.experiments;
  }

  summary(id: string): ExperimentSummary | undefined {
    const at = this.#positions.get("experiments")!.get(id);
    return at === undefined ? undefined : this.#low.data.experiments[at];
  }

  get(table: Table, id: string): StoredRecord | undefined {
    if (table === "experiments") return this.#experiment(id);
    const at = this.#positions.get(table)!.get(id);
    return at === undefined ? undefined : this.#low.data[table][at];
  }

  all(table: SmallTable): readonly StoredRecord[] {
    return this.#low.data[table];
  }

  counter(name: string): number {
    return this.#low.data.counters[name] ?? 0;
  }

  /** Upserts a whole record. `check` runs inside the write queue, before anything is written. */
  put(table: Table, record: StoredRecord, check?: (previous: StoredRecord | undefined) => void): Promise<void> {
    return this.#exclusive(() => {
      check?.(this.get(table, record.id));
      this.#commit({ op: "put", table, record });
    });
  }

  /**
   * Inserts a record built from the counter's next value, raising the counter to `counterOf(record)` (when higher)
   * in the same journal write: one fsync for a new record with a new id.
   */
  insert(table: Table, counter: string, build: (next: number) => StoredRecord, counterOf: (record: StoredRecord) => number | null): Promise<StoredRecord> {
    return this.#exclusive(() => {
      const record = build(this.counter(counter) + 1);
      const value = counterOf(record);
      const ops: OpBody[] = value !== null && value > this.counter(counter) ? [{ op: "counter", name: counter, value }] : [];
      this.#commitMany([...ops, { op: "put", table, record }]);
      return record;
    });
  }

  /** Replaces a record with `fn(current)`, read and written inside the write queue (no lost updates). */
  modify(table: Table, id: string, fn: (previous: StoredRecord | undefined) => StoredRecord): Promise<StoredRecord> {
    return this.#exclusive(() => {
      const record = fn(this.get(table, id));
      if (record.id !== id) throw new Error(`archive ${this.#label}: modify(${id}) returned record ${record.id}`);
      this.#commit({ op: "put", table, record });
      return record;
    });
  }

  /** Upserts many records with one fsync (a crash keeps a prefix of them). `check` runs first, in the queue. */
  putMany(table: Table, records: readonly StoredRecord[], check?: () => void): Promise<void> {
    return this.#exclusive(() => {
      check?.();
      this.#commitMany(records.map((record) => ({ op: "put", table, record })));
    });
  }

  /** Raises a counter to `value` (no-op when it is already there); returns the counter. */
  raiseCounter(name: string, value: number): Promise<number> {
    return this.#exclusive(() => {
      if (value > this.counter(name)) this.#commit({ op: "counter", name, value });
      return this.counter(name);
    });
  }

  /** Increments a counter by `count` (default 1) durably and returns the first new value. */
  nextCounter(name: string, count = 1): Promise<number> {
    return this.#exclusive(() => {
      const first = this.counter(name) + 1;
      this.#commit({ op: "counter", name, value: first + count - 1 });
      return first;
    });
  }

  /** Writes a full snapshot and starts an empty journal. */
  compact(): Promise<void> {
    return this.#exclusive(() => this.#compact());
  }

  /**
   * Compacts when the journal has ops (writers; not when `compact` is false, e.g. after losing the lock), then
   * closes the files. Idempotent.
   */
  close(opts: { compact?: boolean } = {}): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#closed) return;
      this.#closed = true;
      try {
        const pending = this.#low.data.seq > this.#adapter.journal.base || this.#upgraded;
        if (this.#writable && pending && opts.compact !== false) await this.#compact();
      } finally {
        this.#adapter.closeJournal();
        this.#adapter.closeRecords();
      }
    });
  }

  #experiment(id: string): StoredRecord | undefined {
    const cached = this.#bodies.get(id);
    if (cached) return cached;
    const summary = this.summary(id);
    if (!summary) return undefined;
    if (!summary.at) throw new ArchiveCorruptError(`archive ${this.#label}: experiment ${id} has no stored record`);
    const record = this.#adapter.readRecord(id, summary.at);
    this.#bodyReads += 1;
    if (typeof record !== "object" || record === null || (record as { id?: unknown }).id !== id) {
      throw new ArchiveCorruptError(`archive ${this.#label}: the stored record of experiment ${id} does not carry its id`);
    }
    this.#bodies.set(id, record as StoredRecord);
    return record as StoredRecord;
  }

  #commit(body: OpBody): void {
    this.#commitMany([body]);
  }

  #commitMany(bodies: readonly OpBody[]): void {
    if (!this.#writable) throw new Error(`archive ${this.#label} store was opened read-only`);
    if (this.#closed) throw new Error(`archive ${this.#label} store is closed`);
    if (bodies.length === 0) return;
    const ops = bodies.map((body, i) => ({ ...body, seq: this.#low.data.seq + 1 + i }) as Op);
    this.#adapter.append(ops);
    for (const op of ops) this.#apply(op);
  }

  #apply(op: Op): void {
    const data = this.#low.data;
    if (op.op === "counter") {
      data.counters[op.name] = Math.max(data.counters[op.name] ?? 0, op.value);
    } else {
      const record = op.record as StoredRecord;
      const positions = this.#positions.get(op.table)!;
      const at = positions.get(record.id);
      let row: StoredRecord | ExperimentSummary = record;
      if (op.table === "experiments") {
        row = summarize(record, at === undefined ? null : data.experiments[at]!.at);
        this.#bodies.set(record.id, record);
        this.#dirty.add(record.id);
      }
      const rows = data[op.table] as (StoredRecord | ExperimentSummary)[];
      if (at === undefined) {
        positions.set(record.id, rows.length);
        rows.push(row);
      } else {
        rows[at] = row;
      }
    }
    data.seq = op.seq;
  }

  async #compact(): Promise<void> {
    const data = this.#low.data;
    let replaced: string | null = null;
    if (this.#dirty.size > 0 || (data.experimentsFile === null && data.experiments.length > 0)) {
      const file = `experiments.${data.seq}.jsonl`;
      const offsets = this.#writeRecords(path.join(this.#adapter.dir, file));
      data.experiments = data.experiments.map((summary, i) => ({ ...summary, at: offsets[i]! }));
      data.experimentsFile = file;
      replaced = this.#adapter.useRecords(file);
      this.#dirty.clear();
    }
    await this.#low.write();
    if (replaced && replaced !== data.experimentsFile) fs.rmSync(path.join(this.#adapter.dir, replaced), { force: true });
  }

  /** Writes every experiment's full record, one per line: changed ones serialised, the rest copied as bytes. */
  #writeRecords(file: string): [number, number][] {
    const old = this.#adapter.readAllRecords();
    const temp = `${file}.tmp`;
    const fd = fs.openSync(temp, "w");
    const offsets: [number, number][] = [];
    try {
      let offset = 0;
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      const flush = () => {
        const buffer = Buffer.concat(chunk, chunkBytes);
        let written = 0;
        while (written < buffer.length) written += fs.writeSync(fd, buffer, written);
        chunk = [];
        chunkBytes = 0;
      };
      for (const summary of this.#low.data.experiments) {
        let line: Buffer;
        if (!this.#dirty.has(summary.id) && summary.at && old) {
          line = old.subarray(summary.at[0], summary.at[0] + summary.at[1] + 1); // with its newline
        } else {
          line = Buffer.from(JSON.stringify(this.#experiment(summary.id)) + "\n");
        }
        offsets.push([offset, line.length - 1]);
        offset += line.length;
        chunk.push(line);
        chunkBytes += line.length;
        if (chunkBytes >= 8 * 1024 * 1024) flush();
      }
      flush();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    return offsets;
  }

  #exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const result = await fn();
      if (this.#writable && !this.#closed && this.#journalTooBig()) await this.#compact();
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #journalTooBig(): boolean {
    return this.#adapter.journalBytes > Math.max(this.#minBytes, this.#ratio * this.#adapter.snapshotBytes);
  }
}

/** Experiments files db.json does not name: leftovers of a compaction interrupted before its commit point. */
function removeStaleRecordFiles(dir: string, current: string | null): void {
  for (const name of fs.readdirSync(dir)) {
    if (name !== current && (EXPERIMENTS_FILE.test(name) || /^experiments\.\d+\.jsonl\.tmp$/.test(name))) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}
