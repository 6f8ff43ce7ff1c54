/**
 * `archlab cognition import <dir>` and `archlab cognition search "<query>"`: the archive's research knowledge
 * (ASI-Arch cognition JSON and Markdown notes), searched by BM25 or, with --embeddings, by embeddings from the
 * OpenAI-compatible endpoint ($OPENAI_BASE_URL, key in $OPENAI_API_KEY).
 */
import { Command } from "commander";
import { DEFAULT_ARCHIVE_DIR, withArchive } from "../archive/archive.ts";
import { writeOut } from "./present.ts";
import { positiveInt } from "./flags.ts";
import { CognitionBase, embedCognition, importCognition, readSources, type CognitionHit } from "../cognition/index.ts";
import { UserError } from "../errors.ts";

import { DEFAULT_EMBEDDING_MODEL } from "../llm/config.ts";

interface ImportOptions {
  archive: string;
  embed?: boolean;
  embeddingModel: string;
  json?: boolean;
}

interface SearchOptions {
  archive: string;
  k: string;
  json?: boolean;
  embeddings?: boolean;
  embeddingModel: string;
}

/** The embeddings helpers, loaded only when asked for (LangChain is slow to import). */
const embeddings = () => import("../llm/embeddings.ts");

export function registerCognition(program: Command): void {
  const cognition = program
    .command("cognition")
    .description("the research knowledge the agents read: import ASI-Arch cognition files and notes, search them");

  cognition
    .command("import")
    .description("import ASI-Arch cognition JSON files and Markdown notes (a directory, searched recursively, or one file)")
    .argument("<dir>", "directory (or file) of *.json cognition files and *.md notes")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--embed", "also embed the entries through the OpenAI-compatible endpoint ($OPENAI_BASE_URL, $OPENAI_API_KEY)")
    .option("--embedding-model <name>", "embedding model for --embed", DEFAULT_EMBEDDING_MODEL)
    .option("--json", "print the import report as JSON")
    .action(async (dir: string, opts: ImportOptions) => {
      readSources(dir); // bad input fails here, before the archive is created or locked
      const llm = opts.embed ? await embeddings() : null;
      const client = llm ? await llm.embeddingsClient(opts.embeddingModel) : null;
      const report = await withArchive(opts.archive, { mode: "write" }, async () => {
        const imported = importCognition(dir, opts.archive);
        const embedded = llm && client ? await llm.embeddingRequest(embedCognition(opts.archive, client, opts.embeddingModel), opts.embeddingModel) : null;
        return { ...imported, embedded: embedded?.embedded ?? null };
      });
      if (opts.json) {
        writeOut(JSON.stringify(report, null, 2));
        return;
      }
      const files = `${report.files} file${report.files === 1 ? "" : "s"}`;
      writeOut(`imported ${files} into ${opts.archive}: ${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.removed} removed; ${report.total} entries`
        + (report.embedded === null ? "" : `; embedded ${report.embedded} with ${opts.embeddingModel}`));
    });

  cognition
    .command("search")
    .description("the entries that best match a query (BM25, or --embeddings)")
    .argument("<query>", "what to look for, e.g. \"selective state space scan\"")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--k <n>", "how many entries", "5")
    .option("--embeddings", "rank by embedding similarity (after `cognition import --embed`)")
    .option("--embedding-model <name>", "embedding model for --embeddings", DEFAULT_EMBEDDING_MODEL)
    .option("--json", "print the entries (with all their fields) as a JSON array")
    .action(async (query: string, opts: SearchOptions) => {
      const k = positiveInt(opts.k, "--k");
      if (!query.trim()) throw new UserError("the search query is empty");
      const base = CognitionBase.require(opts.archive);
      const llm = opts.embeddings ? await embeddings() : null;
      const hits = llm
        ? await llm.embeddingRequest(base.searchByEmbedding(query, await llm.embeddingsClient(opts.embeddingModel), opts.embeddingModel, k), opts.embeddingModel)
        : base.search(query, k);
      if (opts.json) {
        writeOut(JSON.stringify(hits.map(({ entry, score }) => ({ ...entry, score })), null, 2));
        return;
      }
      writeOut(hits.length === 0 ? `no entry matches "${query}" (${base.entries.length} entries)` : hits.map(formatHit).join("\n"));
    });
}

function formatHit({ entry, score }: CognitionHit): string {
  const where = [entry.paper, entry.url ?? entry.source].filter(Boolean).join(" · ");
  return `${entry.id}  ${score.toFixed(3).padStart(7)}  ${entry.title}\n${" ".repeat(entry.id.length + 11)}${where}`;
}
