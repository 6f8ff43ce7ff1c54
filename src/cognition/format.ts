/**
 * What the cognition base stores and the files it imports (issue 7): ASI-Arch's cognition JSON (a file per paper,
 * named after its URL, holding a list of entries with five string fields) and Markdown notes (one entry per file).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UserError } from "../errors.ts";

export const COGNITION_SCHEMA = "archlab.cognition/1";
export const COGNITION_FILE = "cognition.json";

/** ASI-Arch's five fields, in their order. */
export const ASI_ARCH_FIELDS = [
  "DESIGN_INSIGHT", "EXPERIMENTAL_TRIGGER_PATTERNS", "BACKGROUND", "ALGORITHMIC_INNOVATION", "IMPLEMENTATION_GUIDANCE",
] as const;

export const AsiArchEntry = z.object(Object.fromEntries(ASI_ARCH_FIELDS.map((f) => [f, z.string()])) as Record<(typeof ASI_ARCH_FIELDS)[number], z.ZodString>);
export const AsiArchFile = z.array(AsiArchEntry).min(1, "an empty list");

export const CognitionEntry = z.object({
  /** Stable across re-imports of the same source: cg0001, cg0002, ... */
  id: z.string().regex(/^cg\d{4,}$/),
  /** The file it came from, relative to the imported directory, and its position there. */
  source: z.string(),
  index: z.number().int().nonnegative(),
  kind: z.enum(["asi-arch", "markdown"]),
  /** The paper's URL (from an ASI-Arch file name), else null. */
  url: z.string().nullable(),
  /** The entry's own heading (an ASI-Arch design insight, or a note's first heading). */
  title: z.string(),
  /** The paper's title, when known. */
  paper: z.string().nullable(),
  /** ASI-Arch's five fields, or {NOTE: text} for a Markdown note. */
  fields: z.record(z.string(), z.string()),
  importedAt: z.string(),
});
export type CognitionEntry = z.infer<typeof CognitionEntry>;

export const CognitionFile = z.object({
  schema: z.literal(COGNITION_SCHEMA),
  /** The next id number to hand out (ids are never reused). */
  nextId: z.number().int().positive(),
  entries: z.array(CognitionEntry),
});
export type CognitionFile = z.infer<typeof CognitionFile>;

/** An entry as read from a source file, before it has an id. */
export type EntryDraft = Omit<CognitionEntry, "id" | "importedAt">;

/** ASI-Arch names files after the paper's URL with "/" as "_": arxiv.org_abs_2312.00752 -> https://arxiv.org/abs/2312.00752 */
export function urlFromFileName(file: string): string {
  const stem = path.basename(file).replace(/\.json$/i, "");
  return `https://${stem.replace(/_/g, "/")}`;
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";
}

function insightTitle(insight: string): string {
  const line = firstLine(insight).replace(/^#+\s*/, "").replace(/^DESIGN_INSIGHT(_[A-Z0-9]+)?\s*[:.-]\s*/i, "").replace(/\*\*/g, "").trim();
  const bracketed = /^\[(.*)\]$/.exec(line) ?? /^\[([^\]]*)$/.exec(line);
  return (bracketed ? bracketed[1]! : line).trim();
}

function paperTitle(background: string): string | null {
  const m = /\*\*Title\*\*\s*:\s*(.+)/.exec(background);
  return m ? m[1]!.trim() : null;
}

/** Reads one ASI-Arch cognition file; a file that is not the format is a one-line UserError naming it. */
export function readAsiArchFile(file: string, source: string): EntryDraft[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`cognition file ${file} is not valid JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = AsiArchFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length === 0 ? "" : ` (entry ${Number(issue.path[0]) + 1}${issue.path.length > 1 ? `, ${issue.path.slice(1).join(".")}` : ""})`;
    throw new UserError(`cognition file ${file} is not ASI-Arch's cognition format: a list of entries with string fields ${ASI_ARCH_FIELDS.join(", ")}${where}: ${issue.message}`);
  }
  const url = urlFromFileName(file);
  return parsed.data.map((entry, index) => {
    const paper = paperTitle(entry.BACKGROUND);
    return {
      source, index, kind: "asi-arch" as const, url, paper,
      title: insightTitle(entry.DESIGN_INSIGHT) || paper || path.basename(file),
      fields: { ...entry },
    };
  });
}

/** A Markdown note: one entry, titled by its first heading (else the file name). */
export function readMarkdownNote(file: string, source: string): EntryDraft[] {
  const text = fs.readFileSync(file, "utf8");
  if (!text.trim()) throw new UserError(`cognition note ${file} is empty`);
  const heading = /^#{1,6}\s+(.+)$/m.exec(text);
  return [{
    source, index: 0, kind: "markdown", url: null, paper: null,
    title: heading ? heading[1]!.trim() : path.basename(file, path.extname(file)),
    fields: { NOTE: text },
  }];
}

/** The text an entry is searched and shown by. */
export function entryText(entry: Pick<CognitionEntry, "title" | "paper" | "fields">): string {
  return [entry.title, entry.paper ?? "", ...Object.values(entry.fields)].join("\n\n");
}
