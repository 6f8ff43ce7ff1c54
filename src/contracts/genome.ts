/**
 * The design space (DESIGN §2.2), the contract the researcher, engineer and analyst all read: a genome is one
 * choice per gene; engineer/codegen.ts turns it into a real layer file on the fast primitives, and the
 * researcher's operators (researcher/operators.ts) change it one gene at a time, so parent -> child is an
 * ablation the analyst can attribute.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

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

export function genomeName(genome: Genome): string {
  const g = normalise(genome);
  const parts = [g.update.replace("_", "-"), g.feature_map, g.short_conv ? `conv${g.short_conv}` : "noconv"];
  if (g.output_gate !== "none") parts.push(`${g.output_gate}gate`);
  if (g.paths === 2) parts.push("2path");
  if (g.heads !== "x1") parts.push(`heads-${g.heads}`);
  if (g.expand_v !== 1) parts.push(`v${g.expand_v}`);
  return parts.join("-");
}
