import { describe, expect, it } from "vitest";
import { Bm25Index, tokenize } from "./bm25.ts";

describe("BM25", () => {
  it("tokenizes to lower-case words without stop words, plurals folded", () => {
    expect(tokenize("The Gates of a State-Space model, and memories!")).toEqual(["gate", "state", "space", "model", "memory"]);
  });

  it("ranks by term rarity and frequency, normalised by length", () => {
    const docs = [
      "delta rule delta rule memory",       // 0: both words, the rare one twice
      "linear attention memory",            // 1: only the common word
      "delta rule memory " + "filler ".repeat(40), // 2: both words in a long document
      "convolution memory",                 // 3: only the common word
      "delta rule",                         // 4: the rare word in a short document
    ];
    const index = new Bm25Index(docs);
    const hits = index.search("delta memory", 10);
    expect(hits[0]!.doc).toBe(0);
    expect(hits.map((h) => h.doc).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(index.score("delta memory", 4)).toBeGreaterThan(index.score("delta memory", 2));
    expect(index.score("delta", 4)).toBeGreaterThan(index.score("memory", 3));
    expect(index.idf("delta")).toBeCloseTo(Math.log(1 + (5 - 3 + 0.5) / (3 + 0.5)), 12);
    expect(index.search("nothing here", 5)).toEqual([]);
  });

  it("returns at most k hits, ties broken by position", () => {
    const index = new Bm25Index(["gate", "gate", "gate"]);
    expect(index.search("gate", 2).map((h) => h.doc)).toEqual([0, 1]);
  });
});
