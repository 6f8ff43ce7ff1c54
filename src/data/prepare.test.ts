import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archlab } from "../archive/testing/sampleArchive.ts";
import { TokenManifest } from "../contracts/tokens.ts";
import { detag, detagLine } from "./brown.ts";
import { prepareData, readManifest } from "./prepare.ts";
import { codecFor } from "./tokenizer.ts";

let dir: string;
const TEXTS: Record<string, string> = {
  "a.txt": "The quick brown fox jumps over the lazy dog.\nNaïve café — “quotes”, emoji 🦊, tabs\tand  spaces.\n",
  "b/c.md": "# Heading\n\nSome *markdown* with code: `x = 1 + 2`, and <|endoftext|> written as plain text.\n",
  "d.txt": "Validation text lives in the last file. ".repeat(20),
};

function tokensOf(file: string): number[] {
  return Array.from(new Uint16Array(new Uint8Array(fs.readFileSync(file)).buffer));
}
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-data-"));
  for (const [name, text] of Object.entries(TEXTS)) {
    fs.mkdirSync(path.dirname(path.join(dir, "in", name)), { recursive: true });
    fs.writeFileSync(path.join(dir, "in", name), text);
  }
  fs.writeFileSync(path.join(dir, "in", "blob.bin"), Buffer.from([0xff, 0xfe, 0x00, 0x80]));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("data prepare", () => {
  it.each(["byte", "gpt2"] as const)("round-trips text → tokens → text with the %s tokenizer", (tokenizer) => {
    const out = path.join(dir, `out-${tokenizer}`);
    const { manifest, skipped } = prepareData({ input: path.join(dir, "in"), out, tokenizer, valSplit: 0.3 });
    expect(skipped).toBe(1); // blob.bin is not UTF-8
    expect(manifest.sources.map((s) => [s.path, s.split])).toEqual([["a.txt", "train"], ["b/c.md", "train"], ["d.txt", "val"]]);
    const codec = codecFor(tokenizer);
    const decoded = (file: string) => {
      const tokens = tokensOf(path.join(out, file));
      if (codec.eot === null) return [codec.decode(tokens)];
      // split at the document ends (eot), decode each document on its own
      const docs: number[][] = [[]];
      for (const t of tokens) t === codec.eot ? docs.push([]) : docs.at(-1)!.push(t);
      return docs.filter((d) => d.length).map((d) => codec.decode(d));
    };
    // bytes: documents end with "\n\n"; GPT-2: with <|endoftext|>, and text spelling it stays text
    const docs = (...names: string[]) => codec.eot === null ? [names.map((n) => TEXTS[n] + codec.separator).join("")] : names.map((n) => TEXTS[n]);
    expect(decoded("train.bin")).toEqual(docs("a.txt", "b/c.md"));
    expect(decoded("val.bin")).toEqual(docs("d.txt"));
    expect(manifest.vocab_size).toBe(tokenizer === "gpt2" ? 50257 : 256);
    if (tokenizer === "gpt2") expect(tokensOf(path.join(out, "train.bin")).filter((t) => t === 50256)).toHaveLength(2);
  });

  it("records the sha256 of every input and output, and the manifest validates", () => {
    const out = path.join(dir, "out-byte");
    const { manifest, sha256 } = readManifest(out);
    expect(TokenManifest.parse(JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")))).toEqual(manifest);
    expect(sha256).toBe(sha(fs.readFileSync(path.join(out, "manifest.json"))));
    for (const split of [manifest.train, manifest.val]) {
      const bytes = fs.readFileSync(path.join(out, split.file));
      expect(split.sha256).toBe(sha(bytes));
      expect(split.tokens * 2).toBe(bytes.length);
    }
    for (const source of manifest.sources) expect(source.sha256).toBe(sha(fs.readFileSync(path.join(dir, "in", source.path))));
    // a token file that no longer matches its manifest is refused
    fs.appendFileSync(path.join(out, "val.bin"), Buffer.from([1, 0]));
    expect(() => readManifest(out)).toThrow(/does not match manifest.json/);
  });

  it("splits a single file at its tail", () => {
    const { manifest } = prepareData({ input: path.join(dir, "in", "d.txt"), out: path.join(dir, "one"), tokenizer: "byte", valSplit: 0.25 });
    expect(manifest.split_by).toBe("tail");
    const total = Buffer.byteLength(TEXTS["d.txt"]!) + 2;
    expect(manifest.train.tokens).toBe(Math.floor(total * 0.75));
    expect(manifest.train.tokens + manifest.val.tokens).toBe(total);
  });

  it("strips the Brown corpus's POS tags and undoes its quote and punctuation tokens", () => {
    expect(detagLine("The/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, 1/2/cd (/( it/pps )/) ./.")).toBe('The jury said "no evidence", 1/2 (it).');
    expect(detag("\n\n\tA/at b/nn ./.\n\tC/np ./.\n\n\n\tD/np ./.\n")).toBe("A b. C.\nD.");
  });

  it("prepares the embedded corpus with whole genres held out for validation", async () => {
    const out = path.join(dir, "brown");
    const run = await archlab(["data", "prepare", "--out", out, "--tokenizer", "byte", "--json"]);
    expect(run.exitCode).toBe(0);
    const { manifest_sha256, ...printed } = JSON.parse(run.stdout);
    expect(manifest_sha256).toBe(sha(fs.readFileSync(path.join(out, "manifest.json"))));
    const manifest = TokenManifest.parse(printed);
    expect(manifest.sources).toHaveLength(500);
    expect(manifest.split_by).toBe("genre");
    const valGenres = new Set(manifest.sources.filter((s) => s.split === "val").map((s) => s.genre));
    const trainGenres = new Set(manifest.sources.filter((s) => s.split === "train").map((s) => s.genre));
    expect([...valGenres].filter((g) => trainGenres.has(g))).toEqual([]);
    expect(manifest.val.documents / 500).toBeGreaterThanOrEqual(0.1);
    const text = fs.readFileSync(path.join(out, "val.bin")).subarray(0, 20000);
    expect(Buffer.from(new Uint16Array(new Uint8Array(text).buffer)).toString("latin1")).not.toMatch(/\/(at|nn|vbd|in)\b/);
  }, 60_000);

  it.each([
    [["data", "prepare", "/nonexistent/corpus", "--out", "OUT"], /^archlab: no such file or folder: \/nonexistent\/corpus$/],
    [["data", "prepare", "IN", "--out", "OUT", "--val-split", "0"], /^archlab: --val-split must be a number between 0 and 1 \(exclusive\), not 0$/],
    [["data", "prepare", "IN", "--out", "OUT", "--val-split", "abc"], /^archlab: --val-split must be a number, not "abc"$/],
    [["data", "prepare", "IN", "--out", "IN/a.txt"], /^archlab: --out .* is a file, not a folder$/],
    [["data", "prepare", "IN/blob.bin", "--out", "OUT"], /^archlab: no UTF-8 text in .*blob\.bin \(1 files skipped\)$/],
    [["data", "prepare", "IN", "--out", "OUT", "--tokenizer", "sentencepiece"], /error: option '--tokenizer <name>' argument 'sentencepiece' is invalid/],
  ])("refuses %j with one line and exit 2", async (args, message) => {
    const run = await archlab(args.map((a) => a.replace(/^IN/, path.join(dir, "in")).replace(/^OUT$/, path.join(dir, "bad-out"))));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
