import { describe, expect, it } from "vitest";
import { GENE_NAMES, genomeKey, GenomeSchema, normalise, prefKey, SEED_GENOMES } from "../contracts/genome.ts";
import { crossover, mutate, randomGenome } from "./operators.ts";
import { seededRng } from "./rng.ts";

const delta = SEED_GENOMES.delta_net!;

describe("genome operators", () => {
  it("every seed is a valid genome with a distinct key", () => {
    const keys = Object.values(SEED_GENOMES).map((g) => (GenomeSchema.parse(g), genomeKey(g)));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("rejects unknown genes and values", () => {
    expect(GenomeSchema.safeParse({ ...delta, update: "magic" }).success).toBe(false);
    expect(GenomeSchema.safeParse({ ...delta, extra: 1 }).success).toBe(false);
  });

  it("normalises genes that cannot matter, so equal designs share a key", () => {
    expect(genomeKey({ ...delta, qk_norm: "none" })).toBe(genomeKey(delta));
    expect(normalise({ ...delta, qk_norm: "none" }).qk_norm).toBe("l2");
  });

  it("mutation changes exactly one gene and never returns a taken key", () => {
    const rng = seededRng(3);
    const taken = new Set([genomeKey(delta)]);
    for (let m = mutate(delta, rng, {}, taken); m; m = mutate(delta, rng, {}, taken)) {
      const changed = GENE_NAMES.filter((g) => m.genome[g] !== delta[g]);
      expect(changed).toEqual([m.change.gene]);
      expect(taken.has(genomeKey(m.genome))).toBe(false);
      taken.add(genomeKey(m.genome));
    }
    expect(taken.size).toBe(1 + 20); // every one-gene neighbour of DeltaNet whose behaviour can differ
  });

  it("returns null when every neighbour is taken", () => {
    const taken = new Set<string>();
    const rng = seededRng(1);
    for (let m = mutate(delta, rng, {}, taken); m; m = mutate(delta, rng, {}, taken)) taken.add(genomeKey(m.genome));
    expect(mutate(delta, rng, {}, taken)).toBeNull();
  });

  it("guidance: a value with a measured positive effect is proposed far more often, a harmful one far less", () => {
    const count = (prefs: Record<string, number>) => {
      const rng = seededRng(11);
      const seen = new Map<string, number>();
      for (let i = 0; i < 3000; i++) {
        const { change } = mutate(delta, rng, prefs)!;
        const key = prefKey(change.gene, change.to);
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      return seen;
    };
    const neutral = count({});
    const guided = count({ [prefKey("update", "gated_delta")]: 0.2, [prefKey("short_conv", 0)]: -0.2 });
    expect(guided.get("update=gated_delta")!).toBeGreaterThan(5 * neutral.get("update=gated_delta")!);
    expect(guided.get("short_conv=0") ?? 0).toBeLessThan(neutral.get("short_conv=0")! / 5);
  });

  it("crossover takes each gene from one parent; random genomes are valid", () => {
    const rng = seededRng(5);
    const gla = SEED_GENOMES.gla!;
    const child = crossover(delta, gla, rng);
    for (const g of GENE_NAMES) expect([delta[g], gla[g], "l2"]).toContain(child[g]);
    for (let i = 0; i < 20; i++) expect(GenomeSchema.safeParse(randomGenome(rng)).success).toBe(true);
  });
});
