/**
 * The cognition base (issue 7): research knowledge the researcher and analyst read, kept in the archive directory
 * as cognition.json (zod-validated, written atomically). Import merges by source file: re-importing a file
 * replaces its entries and keeps their ids. Retrieval is BM25 (in memory, built on load) or, optionally, cosine
 * similarity of embeddings from the OpenAI-compatible endpoint, kept in cognition.embeddings.json.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { z } from "zod";
import { UserError } from "../errors.ts";
import { writeFileAtomicSync } from "../atomic.ts";
import { Bm25Index } from "./bm25.ts";
import {
  COGNITION_FILE, COGNITION_SCHEMA, CognitionFile, entryText, readAsiArchFile, readMarkdownNote,
  type CognitionEntry, type EntryDraft,
} from "./format.ts";

export const EMBEDDINGS_FILE = "cognition.embeddings.json";
const EMBEDDINGS_SCHEMA = "archlab.cognition-embeddings/1";
/** Embedded text is cut here (about 4k tokens), well inside embedding models' input limits. */
const EMBED_CHARS = 16_000;

const EmbeddingsFile = z.object({
  schema: z.literal(EMBEDDINGS_SCHEMA),
  model: z.string(),
  vectors: z.record(z.string(), z.object({ hash: z.string(), vector: z.array(z.number()) })),
});
type EmbeddingsFile = z.infer<typeof EmbeddingsFile>;

export interface CognitionHit {
  entry: CognitionEntry;
  score: number;
}

export interface ImportReport {
  files: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  /** Entries in the base after the import. */
  total: number;
}

const sameContent = (a: EntryDraft, b: EntryDraft) =>
  a.kind === b.kind && a.url === b.url && a.title === b.title && a.paper === b.paper &&
  JSON.stringify(Object.entries(a.fields).sort()) === JSON.stringify(Object.entries(b.fields).sort());
const idOf = (n: number) => `cg${String(n).padStart(4, "0")}`;
const keyOf = (e: { source: string; index: number }) => `${e.source}#${e.index}`;

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value, null, 1) + "\n");
}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T | null {
  if (!fs.existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${what} ${file} is corrupt: ${issue.path.join(".") || "file"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Cognition source files under `source` (a directory, searched recursively, or one file), sorted. */
export function cognitionSources(source: string): { file: string; rel: string }[] {
  if (!fs.existsSync(source)) throw new UserError(`no such directory: ${source}`);
  const isSource = (name: string) => /\.(json|md|markdown)$/i.test(name);
  if (fs.statSync(source).isFile()) {
    if (!isSource(source)) throw new UserError(`${source} is not a cognition file (*.json or *.md)`);
    return [{ file: source, rel: path.basename(source) }];
  }
  const out: { file: string; rel: string }[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (d.name.startsWith(".")) continue;
      const full = path.join(dir, d.name);
      if (d.isDirectory()) walk(full);
      else if (d.isFile() && isSource(d.name)) out.push({ file: full, rel: path.relative(source, full).split(path.sep).join("/") });
    }
  };
  walk(source);
  if (out.length === 0) throw new UserError(`no cognition files (*.json, *.md) in ${source}`);
  return out;
}

/** Reads every source file (all or nothing: the first bad file is a UserError naming it). */
export function readSources(source: string): { files: number; drafts: EntryDraft[] } {
  const files = cognitionSources(source);
  const drafts = files.flatMap(({ file, rel }) => (/\.json$/i.test(file) ? readAsiArchFile(file, rel) : readMarkdownNote(file, rel)));
  return { files: files.length, drafts };
}

/** Imports cognition files into `archiveDir`/cognition.json. The caller holds the archive's writer lock. */
export function importCognition(source: string, archiveDir: string, opts: { now?: () => Date } = {}): ImportReport {
  const { files, drafts } = readSources(source);
  const file = path.join(archiveDir, COGNITION_FILE);
  const current = readJson(file, CognitionFile, "cognition base") ?? { schema: COGNITION_SCHEMA, nextId: 1, entries: [] };
  const at = (opts.now ?? (() => new Date()))().toISOString();
  const byKey = new Map(current.entries.map((e) => [keyOf(e), e]));
  const importedSources = new Set(drafts.map((d) => d.source));
  const incoming = new Set(drafts.map(keyOf));
  let nextId = current.nextId;
  const report: ImportReport = { files, added: 0, updated: 0, unchanged: 0, removed: 0, total: 0 };

  const kept = current.entries.filter((e) => {
    const gone = importedSources.has(e.source) && !incoming.has(keyOf(e));
    if (gone) report.removed++;
    return !gone;
  });
  const entries = new Map(kept.map((e) => [keyOf(e), e]));
  for (const draft of drafts) {
    const old = byKey.get(keyOf(draft));
    if (!old) {
      entries.set(keyOf(draft), { id: idOf(nextId++), ...draft, importedAt: at });
      report.added++;
    } else if (sameContent(old, draft)) {
      report.unchanged++;
    } else {
      entries.set(keyOf(draft), { id: old.id, ...draft, importedAt: at });
      report.updated++;
    }
  }
  const next: CognitionFile = {
    schema: COGNITION_SCHEMA,
    nextId,
    entries: [...entries.values()].sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true })),
  };
  writeJsonAtomic(file, next);
  report.total = next.entries.length;
  return report;
}

const textHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);
const embedText = (entry: CognitionEntry) => entryText(entry).slice(0, EMBED_CHARS);

/** Embeds the entries that have no vector for `model` yet (or whose text changed); returns how many it embedded. */
export async function embedCognition(archiveDir: string, embeddings: EmbeddingsInterface, model: string): Promise<{ embedded: number; total: number }> {
  const base = CognitionBase.require(archiveDir);
  const file = path.join(archiveDir, EMBEDDINGS_FILE);
  const old = readJson(file, EmbeddingsFile, "cognition embeddings");
  const store: EmbeddingsFile = { schema: EMBEDDINGS_SCHEMA, model, vectors: old && old.model === model ? old.vectors : {} };
  const todo = base.entries.filter((e) => store.vectors[e.id]?.hash !== textHash(embedText(e)));
  if (todo.length > 0) {
    const vectors = await embeddings.embedDocuments(todo.map(embedText));
    todo.forEach((e, i) => (store.vectors[e.id] = { hash: textHash(embedText(e)), vector: Array.from(vectors[i]!) }));
  }
  const live = new Set(base.entries.map((e) => e.id));
  for (const id of Object.keys(store.vectors)) if (!live.has(id)) delete store.vectors[id];
  writeJsonAtomic(file, store);
  return { embedded: todo.length, total: base.entries.length };
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

export class CognitionBase {
  readonly dir: string;
  readonly entries: readonly CognitionEntry[];
  readonly #byId: Map<string, CognitionEntry>;
  #bm25: Bm25Index | null = null;

  private constructor(dir: string, entries: CognitionEntry[]) {
    this.dir = dir;
    this.entries = entries;
    this.#byId = new Map(entries.map((e) => [e.id, e]));
  }

  /** The archive's cognition base; empty when nothing was imported. */
  static load(archiveDir: string): CognitionBase {
    const data = readJson(path.join(archiveDir, COGNITION_FILE), CognitionFile, "cognition base");
    return new CognitionBase(archiveDir, data?.entries ?? []);
  }

  /** Like load, but a UserError when nothing was imported. */
  static require(archiveDir: string): CognitionBase {
    if (!fs.existsSync(path.join(archiveDir, COGNITION_FILE))) {
      throw new UserError(`no cognition base in ${archiveDir} (run \`archlab cognition import <dir> --archive ${archiveDir}\`)`);
    }
    return CognitionBase.load(archiveDir);
  }

  get(id: string): CognitionEntry | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** BM25: the k best entries for `query`, best first; entries sharing no word with it are left out. */
  search(query: string, k = 5): CognitionHit[] {
    // The title and paper title count twice: they name what an entry is about.
    this.#bm25 ??= new Bm25Index(this.entries.map((e) => `${e.title}\n${e.paper ?? ""}\n${entryText(e)}`));
    return this.#bm25.search(query, k).map(({ doc, score }) => ({ entry: this.entries[doc]!, score }));
  }

  /** Cosine similarity of embeddings (made by embedCognition with the same model), best first. */
  async searchByEmbedding(query: string, embeddings: EmbeddingsInterface, model: string, k = 5): Promise<CognitionHit[]> {
    const file = path.join(this.dir, EMBEDDINGS_FILE);
    const store = readJson(file, EmbeddingsFile, "cognition embeddings");
    if (!store || store.model !== model) {
      throw new UserError(`the cognition base in ${this.dir} has no embeddings for model "${model}" (run \`archlab cognition import <dir> --archive ${this.dir} --embed\`)`);
    }
    const q = await embeddings.embedQuery(query);
    return this.entries
      .flatMap((entry) => {
        const v = store.vectors[entry.id];
        return v ? [{ entry, score: cosine(q, v.vector) }] : [];
      })
      .sort((a, b) => b.score - a.score || a.entry.id.localeCompare(b.entry.id))
      .slice(0, k);
  }
}

/** Hits as Markdown for a prompt's {{cognition}}: id, title, source, and the fields that guide design. */
export function formatCognition(hits: readonly CognitionHit[], maxCharsPerEntry = 2500): string {
  if (hits.length === 0) return "(no matching entries)";
  return hits.map(({ entry }) => {
    const head = `### [${entry.id}] ${entry.title}${entry.paper ? ` — ${entry.paper}` : ""}${entry.url ? ` (${entry.url})` : ""}`;
    const body = entry.kind === "markdown"
      ? entry.fields.NOTE ?? ""
      : ["DESIGN_INSIGHT", "ALGORITHMIC_INNOVATION", "IMPLEMENTATION_GUIDANCE"].map((f) => entry.fields[f] ?? "").join("\n\n");
    const cut = body.length > maxCharsPerEntry ? `${body.slice(0, maxCharsPerEntry)}\n...` : body;
    return `${head}\n\n${cut.trim()}`;
  }).join("\n\n");
}
