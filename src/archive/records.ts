/**
 * The archive's records against their contracts (contracts/experiment.ts): what a caller gives to insert or
 * patch, the defaults a new experiment gets, and the check every record passes once, read or written, before
 * it is handed out frozen.
 */
import { z } from "zod";
import { Campaign, Experiment, LedgerEntry, Note, Transition, ZERO_COSTS } from "../contracts/experiment.ts";
import { firstIssue } from "../errors.ts";
import { ArchiveCorruptError } from "./errors.ts";
import type { StoredRecord, Table } from "./store.ts";

export type TransitionRecord = z.infer<typeof Transition>;
const REQUIRED = ["name", "parentId", "campaign", "proposer", "status"] as const;
/** What a caller gives to insert an experiment: the required fields; the rest default (id from newId()). */
export type NewExperiment = Pick<Experiment, (typeof REQUIRED)[number]> & Partial<Omit<Experiment, (typeof REQUIRED)[number]>>;
/** Top-level fields to replace; a status change appends a transition. */
export type ExperimentPatch = Partial<Omit<Experiment, "id" | "createdAt" | "transitions">>;
export type NewCampaign = Pick<Campaign, "name"> & Partial<Campaign>;
export type NewLedgerEntry = Omit<LedgerEntry, "id" | "at"> & Partial<Pick<LedgerEntry, "id" | "at">>;
export type NewNote = Pick<Note, "experimentId" | "text"> & Partial<Note>;

const SCHEMAS: Record<Table, z.ZodType> = { experiments: Experiment, campaigns: Campaign, ledger: LedgerEntry, notes: Note };
const RECORD_NAME: Record<Table, string> = { experiments: "experiment", campaigns: "campaign", ledger: "ledger entry", notes: "note" };

/** A new experiment with every optional field at its default, before validation. */
export function experimentRecord(input: NewExperiment, id: string, now: string): Record<string, unknown> {
  const createdAt = input.createdAt ?? now;
  return {
    genome: null, genomeKey: null, change: null, codeHash: null, commit: null, fingerprint: null,
    stages: {}, fitness: null, costs: ZERO_COSTS, reason: null,
    transitions: [{ status: input.status, at: createdAt }],
    updatedAt: createdAt,
    ...input,
    id,
    createdAt,
  };
}

/** Validates each record once (remembered by identity) for the archive at `dir`. */
export class RecordCheck {
  readonly #valid = new WeakSet<object>();
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Validates a record the first time it is read; hands it out frozen. */
  read<T>(table: Table, raw: StoredRecord): T {
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
  input<T extends StoredRecord>(schema: z.ZodType<T>, value: unknown, what: string): T {
    const parsed = schema.safeParse(JSON.parse(JSON.stringify(value)));
    if (!parsed.success) {
      const id = (value as { id?: unknown }).id;
      throw new Error(`invalid ${what} ${String(id)} for archive ${this.dir}: ${firstIssue(parsed.error)}`);
    }
    const record = deepFreeze(parsed.data);
    this.#valid.add(record);
    return record;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
