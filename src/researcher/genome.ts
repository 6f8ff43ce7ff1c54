/**
 * The offline proposer's design space (DESIGN §2.2): a genome is one choice per gene; codegen.ts turns it into
 * a real layer file on the fast primitives. Mutation changes exactly one gene, so parent -> child is an
 * ablation the analyst can attribute.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { pick, pickWeighted, type Rng } from "./rng.ts";

export const GENES = {
  /** State update rule: how the recurrent memory S_t is written. */
  update: ["additive", "decay_fixed", "decay_data", "decay_dim", "delta", "gated_delta"],
  /** Feature map applied to q and k before the update. */
  feature_map: ["identity", "elu1", "relu", "silu"],
  /** Normalisation of q and k (the delta rules always use l2: their state update needs unit keys). */
  qk_norm: ["none", "l2"],
  /** Depthwise causal short convolution on q, k, v: kernel size, 0 = none. */
  short_conv: [0, 2, 4, 8],
  output_gate: ["none", "sigmoid", "swish"],
  output_norm: ["none", "rms"],
  /** Multi-scale: 2 adds a fast-decaying linear-attention path mixed in by a learned per-head gate. */
  paths: [1, 2],
  /** Heads relative to the stage's num_heads. */
  heads: ["half", "x1", "x2"],
  /** Value expansion (state size grows with it). */
  expand_v: [1, 2],
  chunk_size: [16, 32, 64],
} as const;

export type GeneName = keyof typeof GENES;
export type Genome = { -readonly [G in GeneName]: (typeof GENES)[G][number] };
export const GENE_NAMES = Object.keys(GENES) as GeneName[];

const geneSchema = <G extends GeneName>(g: G) =>
  z.union(GENES[g].map((v) => z.literal(v)) as unknown as [z.ZodLiteral<(typeof GENES)[G][number]>, z.ZodLiteral<(typeof GENES)[G][number]>]);

export const GenomeSchema = z.strictObject(
  Object.fromEntries(GENE_NAMES.map((g) => [g, geneSchema(g)])) as { [G in GeneName]: ReturnType<typeof geneSchema<G>> },
);

/** Genes that cannot matter for a given update rule are pinned, so equal behaviour means equal genome key. */
export function normalise(genome: Genome): Genome {
  const g = { ...genome };
  if (g.update === "delta" || g.update === "gated_delta") g.qk_norm = "l2";
  return g;
}

export function genomeKey(genome: Genome): string {
  const g = normalise(genome);
  const canonical = GENE_NAMES.map((name) => `${name}=${g[name]}`).join(";");
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/**
 * The baseline designs the search starts from, as genomes (codegen reproduces each design). chunk_size 32 is
 * the baselines' CPU default, so on CPU the DeltaNet seed reproduces experiments/layers/delta_net.py exactly.
 */
export const SEED_GENOMES: Record<string, Genome> = {
  linear_attention: {
    update: "additive", feature_map: "elu1", qk_norm: "none", short_conv: 0, output_gate: "none",
    output_norm: "rms", paths: 1, heads: "x1", expand_v: 1, chunk_size: 32,
  },
  retnet: {
    update: "decay_fixed", feature_map: "identity", qk_norm: "none", short_conv: 0, output_gate: "swish",
    output_norm: "rms", paths: 1, heads: "x1", expand_v: 1, chunk_size: 32,
  },
  gla: {
    update: "decay_dim", feature_map: "identity", qk_norm: "none", short_conv: 0, output_gate: "swish",
    output_norm: "rms", paths: 1, heads: "x1", expand_v: 1, chunk_size: 32,
  },
  delta_net: {
    update: "delta", feature_map: "silu", qk_norm: "l2", short_conv: 4, output_gate: "none",
    output_norm: "rms", paths: 1, heads: "x1", expand_v: 1, chunk_size: 32,
  },
  gated_delta_net: {
    update: "gated_delta", feature_map: "silu", qk_norm: "l2", short_conv: 4, output_gate: "swish",
    output_norm: "rms", paths: 1, heads: "x1", expand_v: 1, chunk_size: 32,
  },
};

export interface GeneChange {
  gene: GeneName;
  from: Genome[GeneName];
  to: Genome[GeneName];
}

/** Preference for a gene value, from experience: higher = more likely. Missing = neutral (0). */
export type Preferences = Partial<Record<string, number>>;
export const prefKey = (gene: GeneName, value: unknown) => `${gene}=${value}`;

/**
 * Changes one gene. With preferences (measured per-value effects), values with better measured effect are
 * more likely: weight = exp(effect / temperature); untried values keep weight 1 so exploration never stops.
 * Returns null when no one-gene change yields a new genome key outside `taken`.
 */
export function mutate(
  parent: Genome, rng: Rng, prefs: Preferences = {}, taken: ReadonlySet<string> = new Set(), temperature = 0.05,
): { genome: Genome; change: GeneChange } | null {
  const options: { genome: Genome; change: GeneChange; weight: number }[] = [];
  const parentKey = genomeKey(parent);
  for (const gene of GENE_NAMES) {
    for (const value of GENES[gene]) {
      if (value === parent[gene]) continue;
      const genome = { ...parent, [gene]: value } as Genome;
      const key = genomeKey(genome);
      if (key === parentKey || taken.has(key)) continue;
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

export function genomeName(genome: Genome): string {
  const g = normalise(genome);
  const parts = [g.update.replace("_", "-"), g.feature_map, g.short_conv ? `conv${g.short_conv}` : "noconv"];
  if (g.output_gate !== "none") parts.push(`${g.output_gate}gate`);
  if (g.paths === 2) parts.push("2path");
  if (g.heads !== "x1") parts.push(`heads-${g.heads}`);
  if (g.expand_v !== 1) parts.push(`v${g.expand_v}`);
  return parts.join("-");
}
