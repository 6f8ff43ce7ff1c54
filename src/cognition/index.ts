/** The cognition base's public surface (issue 7): import, store, retrieve research knowledge. */
export {
  CognitionBase, cognitionSources, embedCognition, EMBEDDINGS_FILE, formatCognition, importCognition, readSources,
  type CognitionHit, type ImportReport,
} from "./base.ts";
export { Bm25Index, tokenize, type Bm25Hit } from "./bm25.ts";
export {
  ASI_ARCH_FIELDS, AsiArchFile, COGNITION_FILE, COGNITION_SCHEMA, CognitionEntry, CognitionFile, entryText,
  urlFromFileName, type EntryDraft,
} from "./format.ts";
