import { describe, expect, it } from "vitest";
import { MotivationIndex } from "./motivations.ts";

describe("motivation index", () => {
  it("finds the most similar archived motivations by BM25, skipping excluded ids, and grows", async () => {
    const texts: Record<string, string> = {
      e1: "Seed design delta_net: the starting point of the search.",
      e2: "Add a short convolution before the delta rule to sharpen local recall.",
      e3: "Replace the fixed decay with a data-dependent forget gate.",
    };
    const index = await MotivationIndex.load(Object.keys(texts), async (id) => texts[id] ?? null);
    expect(index.size).toBe(3);
    const hits = index.search("a wider short convolution for local recall", 2);
    expect(hits[0]!.id).toBe("e2");
    expect(index.search("short convolution", 5, new Set(["e2"])).map((h) => h.id)).not.toContain("e2");
    expect(index.search("quantum chromodynamics", 5)).toEqual([]);
    index.add("e4", "A gated forget gate on a data-dependent decay");
    expect(index.search("data-dependent forget gate", 1)[0]!.id).toBe("e4");
    index.add("e4", "something else entirely");
    expect(index.size).toBe(4);
    expect(index.text("e4")).toBe("something else entirely");
  });
});
