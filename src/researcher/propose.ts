/**
 * The offline researcher (DESIGN §2.2): picks a parent by the sampling policy, changes one gene (or crosses two
 * parents), guided by the measured per-gene effects, and explains the change. No I/O: the campaign passes the
 * archive's in-memory summaries in (contracts/experiment.ts: genome, parent, status, fitness), no bodies.
 */
import type { ExperimentSummary } from "../contracts/experiment.ts";
import type { GeneEffect } from "../analyst/rules.ts";
import {
  genomeKey, genomeName, GenomeSchema, prefKey, SEED_GENOMES, type GeneChange, type Genome, type Preferences,
} from "../contracts/genome.ts";
import { crossover, mutate, randomGenome } from "./operators.ts";
import type { Rng } from "./rng.ts";
import { selectParent, type Candidate, type SamplingConfig } from "./sampling.ts";

export interface Proposal {
  name: string;
  genome: Genome;
  genomeKey: string;
  parentId: string | null;
  referenceIds: string[];
  proposer: "seed" | "mutation" | "crossover" | "random";
  change: GeneChange | { crossover: string } | null;
  motivation: string;
}

export interface ProposerSettings {
  kind: "mutation" | "random";
  crossoverRate: number;
  temperature: number;
  seeds: string[];
  sampling: SamplingConfig;
  /** Human steering (src/steering/): pinned parents tried first, `prefer`/`avoid` gene rules from notes. */
  steer?: ProposalSteering;
}

export interface GeneRuleRef {
  gene: string;
  value: string;
  /** Where it came from (a note id), quoted in the motivation. */
  source: string;
}

export interface ProposalSteering {
  pinned: readonly string[];
  prefer: readonly GeneRuleRef[];
  avoid: readonly GeneRuleRef[];
}

/** A genome a steered proposal may produce: none of the avoided gene values. */
export function allowedBy(steer: ProposalSteering | undefined): (g: Genome) => boolean {
  if (!steer?.avoid.length) return () => true;
  return (g) => !steer.avoid.some((r) => String((g as Record<string, unknown>)[r.gene]) === r.value);
}

/** Preferences with the humans' `prefer` rules on top: weight e^20 against a neutral value's 1. */
export function steeredPreferences(prefs: Preferences, steer: ProposalSteering | undefined, temperature: number): Preferences {
  if (!steer?.prefer.length) return prefs;
  const out = { ...prefs };
  for (const r of steer.prefer) out[`${r.gene}=${r.value}`] = 20 * temperature;
  return out;
}

/** Why each gene value might help: the researcher's prior, quoted in the motivation. */
const RATIONALE: Record<string, string> = {
  "update=additive": "a plain additive state is the simplest memory; it tests whether forgetting is needed at all",
  "update=decay_fixed": "a fixed per-head decay (RetNet) gives each head its own memory horizon at no cost",
  "update=decay_data": "a data-dependent decay lets the layer decide per token when to forget",
  "update=decay_dim": "a per-dimension forget gate (GLA) forgets selectively inside the state",
  "update=delta": "the delta rule overwrites the value stored under a key instead of piling values up, which helps recall",
  "update=gated_delta": "gating the delta rule adds fast forgetting to precise overwriting (Gated DeltaNet)",
  "feature_map=identity": "no feature map keeps q and k expressive and signed",
  "feature_map=elu1": "elu+1 keeps the features positive, as in the original linear transformer",
  "feature_map=relu": "relu features are sparse and positive",
  "feature_map=silu": "silu features are smooth and mostly positive, DeltaNet's choice",
  "qk_norm=l2": "unit-norm keys keep the state bounded",
  "qk_norm=none": "unnormalised q and k let magnitudes carry information",
  "short_conv=0": "without the short convolution the layer must do all local mixing in its state",
  "short_conv=2": "a 2-tap convolution gives each token its predecessor, enough for induction-style lookups",
  "short_conv=4": "a 4-tap convolution adds local context before the state update",
  "short_conv=8": "an 8-tap convolution widens the local window",
  "output_gate=none": "no output gate keeps the layer lean",
  "output_gate=sigmoid": "a sigmoid output gate lets tokens suppress what they read",
  "output_gate=swish": "a swish output gate (as in Gated DeltaNet) adds multiplicative control of the output",
  "output_norm=none": "no output normalisation leaves the read-out's scale free",
  "output_norm=rms": "normalising the read-out per head keeps its scale stable as the state grows",
  "paths=1": "a single memory path keeps the layer simple",
  "paths=2": "a second fast-decaying path keeps local detail the main state may wash out",
  "heads=half": "fewer, larger heads give each head a bigger state",
  "heads=x1": "the stage's head count",
  "heads=x2": "more, smaller heads give more independent memories",
  "expand_v=1": "values as wide as keys",
  "expand_v=2": "wider values double the state's capacity",
  "chunk_size=16": "smaller chunks cost less per chunk on short sequences",
  "chunk_size=32": "medium chunks balance parallelism and work",
  "chunk_size=64": "large chunks are the most parallel",
};

/** What parent sampling reads of each experiment (the archive's summaries have it). */
export type RankSource = Pick<ExperimentSummary, "id" | "parentId" | "status" | "fitness" | "genome">;
/** What a proposal reads: parent sampling, and the parent's and references' names for the motivation. */
export type ProposalSource = RankSource & Pick<ExperimentSummary, "name">;

/**
 * Candidates for parent selection: finished experiments with a fitness, best first; only those with a genome
 * unless `genomeOnly` is false (the LLM researcher can build on free-form code too).
 */
export function rankedCandidates(experiments: readonly RankSource[], opts: { genomeOnly?: boolean } = {}): Candidate[] {
  const genomeOnly = opts.genomeOnly ?? true;
  const done = experiments.filter((e) => e.status === "done" && e.fitness !== null && (!genomeOnly || (e.genome && GenomeSchema.safeParse(e.genome).success)));
  const byParent = new Map<string, RankSource[]>();
  for (const e of experiments) if (e.parentId) byParent.set(e.parentId, [...(byParent.get(e.parentId) ?? []), e]);
  return done
    .map((e) => {
      const kids = (byParent.get(e.id) ?? []).filter((k) => k.fitness !== null);
      const gain = kids.length ? kids.reduce((s, k) => s + k.fitness!, 0) / kids.length - e.fitness! : null;
      return { id: e.id, fitness: e.fitness!, children: (byParent.get(e.id) ?? []).length, childGain: gain };
    })
    .sort((a, b) => b.fitness - a.fitness || a.id.localeCompare(b.id));
}

/**
 * The next proposal, or null when the design space around every candidate is exhausted.
 * `taken` holds the genome keys already in the archive or in flight.
 */
export function propose(
  experiments: readonly ProposalSource[], effects: Map<string, GeneEffect>, prefs: Preferences,
  taken: ReadonlySet<string>, settings: ProposerSettings, rng: Rng,
): Proposal | null {
  for (const seed of settings.seeds) {
    const genome = SEED_GENOMES[seed]!;
    if (!taken.has(genomeKey(genome))) {
      return {
        name: seed, genome, genomeKey: genomeKey(genome), parentId: null, referenceIds: [], proposer: "seed", change: null,
        motivation: `Seed design ${seed}: the starting point of the search, evaluated once so its children can be compared with it.`,
      };
    }
  }
  if (settings.kind === "random") {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const genome = randomGenome(rng);
      const key = genomeKey(genome);
      if (taken.has(key)) continue;
      return {
        name: genomeName(genome), genome, genomeKey: key, parentId: null, referenceIds: [], proposer: "random", change: null,
        motivation: "Random search baseline: a uniformly random design, no parent and no experience.",
      };
    }
    return null;
  }
  const byId = new Map(experiments.map((e) => [e.id, e]));
  const ranked = rankedCandidates(experiments);
  const steer = settings.steer;
  const allow = allowedBy(steer);
  const steeredPrefs = steeredPreferences(prefs, steer, settings.temperature);
  // Pinned parents first (a human's preference), each tried twice; then the sampling policy's.
  const pinned = ranked.filter((c) => steer?.pinned.includes(c.id));
  // Try parents in sampled order until one still has an untried neighbour.
  for (let attempt = 0; attempt < pinned.length * 2 + Math.max(8, ranked.length * 2); attempt++) {
    const fromPinned = attempt < pinned.length * 2;
    const selection = selectParent(fromPinned ? pinned : ranked, settings.sampling, rng);
    if (!selection) return null;
    const parent = byId.get(selection.parentId)!;
    const parentGenome = GenomeSchema.parse(parent.genome);
    const refWithGenome = selection.referenceIds.map((id) => byId.get(id)!).find((r) => GenomeSchema.safeParse(r.genome).success);
    if (refWithGenome && rng.next() < settings.crossoverRate) {
      const genome = crossover(parentGenome, GenomeSchema.parse(refWithGenome.genome), rng);
      const key = genomeKey(genome);
      if (!taken.has(key) && allow(genome)) {
        return {
          name: genomeName(genome), genome, genomeKey: key, parentId: parent.id, referenceIds: selection.referenceIds,
          proposer: "crossover", change: { crossover: refWithGenome.id },
          motivation: `Crossover of ${parent.name} (${parent.id}) with ${refWithGenome.name} (${refWithGenome.id}): each gene from one of two good designs, to combine what each does well.`,
        };
      }
    }
    const mutation = mutate(parentGenome, rng, steeredPrefs, taken, settings.temperature, allow);
    if (!mutation) continue;
    return {
      name: genomeName(mutation.genome), genome: mutation.genome, genomeKey: genomeKey(mutation.genome),
      parentId: parent.id, referenceIds: selection.referenceIds, proposer: "mutation", change: mutation.change,
      motivation: motivate(parent, mutation.change, effects, selection.referenceIds.map((id) => byId.get(id)!))
        + steeredBecause(steer, mutation.change, fromPinned),
    };
  }
  return null;
}

/** The steering behind a mutation, in words (empty when there was none). */
function steeredBecause(steer: ProposalSteering | undefined, change: GeneChange, fromPinned: boolean): string {
  if (!steer) return "";
  const parts: string[] = [];
  if (fromPinned) parts.push("the parent is pinned by a human");
  const preferred = steer.prefer.find((r) => r.gene === change.gene && r.value === String(change.to));
  if (preferred) parts.push(`a human note (${preferred.source}) says prefer ${preferred.gene}=${preferred.value}`);
  if (steer.avoid.length) parts.push(`avoided by human notes: ${steer.avoid.map((r) => `${r.gene}=${r.value} (${r.source})`).join(", ")}`);
  return parts.length ? ` Steering: ${parts.join("; ")}.` : "";
}

function motivate(parent: ProposalSource, change: GeneChange, effects: Map<string, GeneEffect>, refs: ProposalSource[]): string {
  const key = prefKey(change.gene, change.to);
  const lines = [
    `Change ${change.gene} of ${parent.name} (${parent.id}, fitness ${parent.fitness!.toFixed(3)}) from ${String(change.from)} to ${String(change.to)}: ${RATIONALE[key] ?? "an untried value"}.`,
  ];
  const seen = effects.get(key);
  lines.push(seen
    ? `Experience: this change has moved fitness by ${seen.fitness >= 0 ? "+" : ""}${seen.fitness.toFixed(3)} on average over ${seen.n} earlier trial${seen.n === 1 ? "" : "s"} (${seen.verdicts.better} better, ${seen.verdicts.worse} worse, ${seen.verdicts["within noise"]} within noise; lead weight ${seen.weight.toFixed(3)}).`
    : "Experience: this change has not been tried yet; trying it measures its effect.");
  const best = [...effects.values()].filter((e) => e.key.startsWith(`${change.gene}=`) && e.weight > 0).sort((a, b) => b.weight - a.weight)[0];
  if (best && best.key !== key) lines.push(`The strongest lead for ${change.gene} so far is ${best.key.split("=")[1]} (lead weight ${best.weight.toFixed(3)} over ${best.n} trial${best.n === 1 ? "" : "s"}).`);
  if (refs.length) lines.push(`References: ${refs.map((r) => `${r.name} (${r.id}${r.fitness !== null ? `, ${r.fitness.toFixed(3)}` : ""})`).join(", ")}.`);
  return lines.join(" ");
}
