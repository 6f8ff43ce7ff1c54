/** The archive's public surface (DESIGN §6). */
export {
  Archive, DEFAULT_ARCHIVE_DIR, formatId, SORT_KEYS, withArchive,
  type ArchiveMode, type ArchiveOpenOptions, type ExperimentFilter, type ExperimentPatch, type IdKind,
  type LeaderboardOptions, type NewCampaign, type NewExperiment, type NewLedgerEntry, type NewNote, type SortKey,
} from "./archive.ts";
export { ArchiveCorruptError, NoArchiveError } from "./errors.ts";
export { codeHash } from "./files.ts";
export { GIT_DIR, LAYER_FILE } from "./git.ts";
export { lockOwner, type WriterInfo } from "./lock.ts";
export { JOURNAL_FILE, SNAPSHOT_FILE, type ExperimentSummary } from "./store.ts";
