/**
 * Parent and reference selection (DESIGN §2.1): pure functions over the archive's ranked experiments.
 * - asi-arch: parent uniform from the top 10 by fitness, 4 references uniform from ranks 11-50 (ASI-Arch's rule)
 * - ucb: parent maximises mean child improvement + c * sqrt(ln N / (1 + visits)) (explore under-tried nodes)
 * - power-law: parent at rank r with probability proportional to r^-alpha
 */
import { z } from "zod";
import { pickWeighted, sample, type Rng } from "./rng.ts";

export const SamplingConfig = z.strictObject({
  policy: z.enum(["asi-arch", "ucb", "power-law"]).default("asi-arch"),
  top_k: z.number().int().positive().default(10),
  references: z.number().int().nonnegative().default(4),
  reference_ranks: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([11, 50]),
  ucb_c: z.number().nonnegative().default(0.5),
  alpha: z.number().positive().default(1.5),
});
export type SamplingConfig = z.infer<typeof SamplingConfig>;

export interface Candidate {
  id: string;
  fitness: number;
  /** How many children it already has (UCB's visit count). */
  children: number;
  /** Mean fitness of its children minus its own, when it has children (UCB's exploitation term). */
  childGain: number | null;
}

export interface Selection {
  parentId: string;
  referenceIds: string[];
}

/** Candidates ranked best first; returns null when there is nothing to sample from. */
export function selectParent(ranked: readonly Candidate[], config: SamplingConfig, rng: Rng): Selection | null {
  if (ranked.length === 0) return null;
  const parent = ranked[parentIndex(ranked, config, rng)]!;
  const [from, to] = config.reference_ranks;
  let pool = ranked.slice(from - 1, to).filter((c) => c.id !== parent.id);
  if (pool.length < config.references) pool = ranked.filter((c) => c.id !== parent.id); // small archive: any other
  return { parentId: parent.id, referenceIds: sample(rng, pool, config.references).map((c) => c.id) };
}

function parentIndex(ranked: readonly Candidate[], config: SamplingConfig, rng: Rng): number {
  switch (config.policy) {
    case "asi-arch":
      return Math.floor(rng.next() * Math.min(config.top_k, ranked.length));
    case "power-law":
      return pickWeighted(rng, ranked.map((_, r) => (r + 1) ** -config.alpha));
    case "ucb": {
      const visits = ranked.reduce((n, c) => n + c.children, 0) + 1;
      const scores = ranked.map((c) => c.fitness + (c.childGain ?? 0) + config.ucb_c * Math.sqrt(Math.log(visits) / (1 + c.children)));
      let best = 0;
      for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
      return best;
    }
  }
}
