/**
 * What the campaign reads to make its next proposal (DESIGN §2 steps 1-2): the offline proposer's inputs — gene
 * effects, parent sampling, the genome keys taken, the seeds to retry — all come from the archive's in-memory
 * summaries (contracts/experiment.ts: genome, change, parent, status, fitness and its band), so a proposal costs
 * no experiment body read however large the archive is. A body is read only to say why nothing can be proposed.
 */
import type { ExperimentSummary } from "../contracts/experiment.ts";
import { TERMINAL_STATUSES } from "../contracts/experiment.ts";
import { geneEffects, preferencesFrom } from "../analyst/rules.ts";
import type { Archive } from "../archive/archive.ts";
import type { Gate } from "../gate/gate.ts";
import { propose, type Proposal } from "../researcher/propose.ts";
import type { Rng } from "../researcher/rng.ts";
import type { CampaignConfig } from "./config.ts";
import type { CampaignSteering } from "./steering.ts";

export interface ProposalStep {
  /** Genome keys archived or in flight, less the dead seeds to retry: what no proposal may repeat. */
  taken: Set<string>;
  /** The offline proposer's next proposal (null: nothing left around the archive). */
  offline: () => Proposal | null;
  /** Why nothing can be proposed, when it is not that the design space is exhausted (null: it is, or runs are in flight). */
  whyNothing: (running: boolean) => string | null;
}

/** The inputs of one proposal, read from the archive's summaries. `seedsTried`: seeds proposed in this run. */
export function proposalStep(
  archive: Archive, gate: Gate, steering: CampaignSteering, config: CampaignConfig, seedsTried: ReadonlySet<string>, rng: Rng,
): ProposalStep {
  const all = archive.summaries();
  const effects = geneEffects(all);
  const taken = gate.takenKeys(); // from the summaries: no body read
  for (const key of retryableSeeds(all, seedsTried)) taken.delete(key); // a dead seed is proposed again
  const { proposer } = config;
  return {
    taken,
    offline: () => propose(steering.sampleable(all), effects, preferencesFrom(effects), taken, {
      kind: proposer.kind, crossoverRate: proposer.crossover_rate, temperature: proposer.temperature,
      seeds: proposer.seeds, sampling: proposer.sampling, steer: steering.proposer(),
    }, rng),
    whyNothing: (running) => nothingToBuildOn(all, running, (id) => archive.getExperiment(id)?.reason ?? null),
  };
}

type SeedSource = Pick<ExperimentSummary, "id" | "name" | "proposer" | "status" | "fitness" | "genomeKey">;

/**
 * Seed genomes to propose again: every attempt at the seed ended without a fitness (failed, or done with no
 * baseline to compare with) and it has not been tried in this run yet (so a seed that keeps failing stops the run).
 */
export function retryableSeeds(all: readonly SeedSource[], triedThisRun: ReadonlySet<string>): Set<string> {
  const bySeed = new Map<string, SeedSource[]>();
  for (const e of all) if (e.proposer === "seed" && e.genomeKey) bySeed.set(e.genomeKey, [...(bySeed.get(e.genomeKey) ?? []), e]);
  const out = new Set<string>();
  for (const [key, tries] of bySeed) {
    const dead = tries.every((e) => isTerminal(e.status) && e.fitness === null);
    if (dead && !triedThisRun.has(key)) out.add(key);
  }
  return out;
}

/**
 * Why the proposer has nothing: null when the design space is really exhausted (or experiments are still
 * running). `reasonOf` reads the one body needed: the last seed's recorded reason.
 */
export function nothingToBuildOn(all: readonly SeedSource[], running: boolean, reasonOf: (id: string) => string | null): string | null {
  if (running || all.some((e) => e.status === "done" && e.fitness !== null)) return null;
  const seed = all.filter((e) => e.proposer === "seed").at(-1);
  if (!seed) return null;
  const reason = reasonOf(seed.id);
  return `no finished experiment with a fitness to build on: seed ${seed.id} (${seed.name}) ended ${seed.status}${reason ? ` (${reason})` : " without a fitness"}; see \`archlab show ${seed.id}\``;
}

const isTerminal = (status: string) => (TERMINAL_STATUSES as readonly string[]).includes(status);
