/**
 * The offline proposer's operators on the design space (contracts/genome.ts): mutation changes exactly one gene,
 * so parent -> child is an ablation the analyst can attribute; crossover and uniform random genomes.
 */
import { GENE_NAMES, GENES, genomeKey, normalise, prefKey, type GeneChange, type GeneName, type Genome, type Preferences } from "../contracts/genome.ts";
import { pick, pickWeighted, type Rng } from "./rng.ts";

/**
 * Changes one gene. With preferences (measured per-value effects), values with better measured effect are
 * more likely: weight = exp(effect / temperature); untried values keep weight 1 so exploration never stops.
 * Returns null when no one-gene change yields a new genome key outside `taken`.
 */
export function mutate(
  parent: Genome, rng: Rng, prefs: Preferences = {}, taken: ReadonlySet<string> = new Set(), temperature = 0.05,
  allow: (genome: Genome) => boolean = () => true,
): { genome: Genome; change: GeneChange } | null {
  const options: { genome: Genome; change: GeneChange; weight: number }[] = [];
  const parentKey = genomeKey(parent);
  for (const gene of GENE_NAMES) {
    for (const value of GENES[gene]) {
      if (value === parent[gene]) continue;
      const genome = { ...parent, [gene]: value } as Genome;
      const key = genomeKey(genome);
      if (key === parentKey || taken.has(key) || !allow(normalise(genome))) continue;
      const effect = prefs[prefKey(gene, value)] ?? 0;
      options.push({ genome: normalise(genome), change: { gene, from: parent[gene], to: value }, weight: Math.exp(Math.max(-20, Math.min(20, effect / temperature))) });
    }
  }
  if (options.length === 0) return null;
  const chosen = options[pickWeighted(rng, options.map((o) => o.weight))]!;
  return { genome: chosen.genome, change: chosen.change };
}

/** Uniform crossover: each gene from either parent. */
export function crossover(a: Genome, b: Genome, rng: Rng): Genome {
  const child = {} as Record<GeneName, unknown>;
  for (const gene of GENE_NAMES) child[gene] = rng.next() < 0.5 ? a[gene] : b[gene];
  return normalise(child as Genome);
}

/** A uniformly random genome (the random-search proposer the offline proposer is benchmarked against). */
export function randomGenome(rng: Rng): Genome {
  const g = {} as Record<GeneName, unknown>;
  for (const gene of GENE_NAMES) g[gene] = pick<unknown>(rng, GENES[gene]);
  return normalise(g as Genome);
}
