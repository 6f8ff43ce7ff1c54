import { describe, expect, it } from "vitest";
import { seededRng } from "./rng.ts";
import { selectParent, SamplingConfig, type Candidate } from "./sampling.ts";

const ranked: Candidate[] = Array.from({ length: 60 }, (_, i) => ({
  id: `e${i + 1}`, fitness: 3 - i * 0.01, children: i < 3 ? 5 : 0, childGain: i < 3 ? -0.1 : null,
}));

function histogram(config: Partial<SamplingConfig>, draws = 2000) {
  const rng = seededRng(7);
  const parents = new Map<string, number>();
  const refs: string[][] = [];
  for (let i = 0; i < draws; i++) {
    const s = selectParent(ranked, SamplingConfig.parse(config), rng)!;
    parents.set(s.parentId, (parents.get(s.parentId) ?? 0) + 1);
    refs.push(s.referenceIds);
  }
  return { parents, refs };
}

const rank = (id: string) => Number(id.slice(1));

describe("selectParent", () => {
  it("asi-arch: parents uniform over the top 10, four distinct references from ranks 11-50", () => {
    const { parents, refs } = histogram({ policy: "asi-arch" });
    expect([...parents.keys()].every((id) => rank(id) <= 10)).toBe(true);
    expect(parents.size).toBe(10);
    for (const n of parents.values()) expect(n).toBeGreaterThan(140); // ~200 each
    for (const r of refs) {
      expect(new Set(r).size).toBe(4);
      expect(r.every((id) => rank(id) >= 11 && rank(id) <= 50)).toBe(true);
    }
  });

  it("power-law: rank 1 is drawn most and the tail still appears", () => {
    const { parents } = histogram({ policy: "power-law", alpha: 1.5 });
    expect(parents.get("e1")!).toBeGreaterThan(parents.get("e2")!);
    expect([...parents.keys()].some((id) => rank(id) > 10)).toBe(true);
  });

  it("ucb: prefers an unvisited good node over visited ones whose children did worse", () => {
    const s = selectParent(ranked, SamplingConfig.parse({ policy: "ucb" }), seededRng(1))!;
    expect(s.parentId).toBe("e4");
  });

  it("same seed, same choices; empty archive, no choice; small archive, references from anyone else", () => {
    const a = histogram({}, 50).refs;
    const b = histogram({}, 50).refs;
    expect(a).toEqual(b);
    expect(selectParent([], SamplingConfig.parse({}), seededRng(1))).toBeNull();
    const small = selectParent(ranked.slice(0, 3), SamplingConfig.parse({}), seededRng(1))!;
    expect(small.referenceIds).not.toContain(small.parentId);
    expect(small.referenceIds).toHaveLength(2);
  });
});
