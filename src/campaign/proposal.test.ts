/**
 * A proposal reads the archive's summaries, not its experiment bodies: on a reopened archive of N experiments
 * (no body cached), the campaign's proposal step reads none; the summaries it reads carry what the bodies say.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Archive, type NewExperiment } from "../archive/archive.ts";
import { summarizeExperiment } from "../contracts/experiment.ts";
import { GENE_NAMES, GENES, genomeKey, normalise, SEED_GENOMES, type Genome } from "../contracts/genome.ts";
import { Gate } from "../gate/gate.ts";
import { seededRng } from "../researcher/rng.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { loadCampaign } from "./config.ts";
import { proposalStep } from "./proposal.ts";
import { CampaignSteering } from "./steering.ts";

const N = 300;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A seed (delta_net) and N-1 one-gene mutations of earlier experiments, each with a fitness and a band. */
function lineage(): NewExperiment[] {
  const rng = seededRng(7);
  const seed = SEED_GENOMES.delta_net!;
  const out: NewExperiment[] = [experiment(1, null, seed, null)];
  const genomes: Genome[] = [seed];
  const keys = new Set([genomeKey(seed)]);
  for (let n = 2; out.length < N; n++) {
    const p = Math.floor(rng.next() * genomes.length);
    const gene = GENE_NAMES[Math.floor(rng.next() * GENE_NAMES.length)]!;
    const values = GENES[gene] as readonly unknown[];
    const to = values[Math.floor(rng.next() * values.length)];
    const genome = normalise({ ...genomes[p]!, [gene]: to } as Genome);
    if (keys.has(genomeKey(genome))) continue;
    keys.add(genomeKey(genome));
    genomes.push(genome);
    out.push(experiment(out.length + 1, `e${String(p + 1).padStart(6, "0")}`, genome, { gene, from: genomes[p]![gene], to }));
  }
  return out;
}

function experiment(n: number, parentId: string | null, genome: Genome, change: Record<string, unknown> | null): NewExperiment {
  const base = syntheticExperiment(n, parentId);
  return {
    ...base, id: `e${String(n).padStart(6, "0")}`, name: `design-${n}`, genome, genomeKey: genomeKey(genome), change,
    fitness: { ...base.fitness!, band: 0.01 * (n % 7) },
  };
}

async function archiveOf(records: readonly NewExperiment[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-proposal-"));
  dirs.push(dir);
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  await archive.insertExperiments(records);
  await archive.close();
  return dir;
}

async function propose(dir: string, seedsTried: ReadonlySet<string> = new Set()) {
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  const steering = new CampaignSteering(archive.dir, { id: "c000001", name: "test" });
  try {
    const before = archive.stats().bodyReads;
    const gate = await Gate.open(archive, { text: false });
    const step = proposalStep(archive, gate, steering, loadCampaign(undefined, {}), seedsTried, seededRng(1));
    const proposal = step.offline();
    const why = step.whyNothing(false);
    return { proposal, why, bodyReads: archive.stats().bodyReads - before, archive };
  } finally {
    steering.close();
    await archive.close();
  }
}

describe("the campaign's proposal step", () => {
  it(`reads no experiment body on an archive of ${N}`, async () => {
    const dir = await archiveOf(lineage());
    const { proposal, bodyReads } = await propose(dir);
    expect(proposal?.proposer).toMatch(/^(mutation|crossover)$/);
    expect(proposal?.parentId).toMatch(/^e\d{6}$/);
    expect(bodyReads).toBe(0);
  });

  it("proposes from summaries that say what the bodies say", async () => {
    const dir = await archiveOf(lineage());
    const archive = await Archive.open(dir, { mode: "read" });
    try {
      const summaries = archive.summaries().map(({ at: _at, ...fields }) => fields);
      expect(archive.stats().bodyReads).toBe(0);
      expect(summaries).toEqual(archive.experiments().map(summarizeExperiment));
      expect(summaries.filter((s) => s.fitnessBand !== null && s.fitnessBand > 0).length).toBeGreaterThan(N / 2);
    } finally {
      await archive.close();
    }
  });

  it("rebuilds summaries written before they carried genome, change and band", async () => {
    const dir = await archiveOf(lineage());
    const db = JSON.parse(fs.readFileSync(path.join(dir, "db.json"), "utf8")) as { experiments: Record<string, unknown>[] };
    for (const s of db.experiments) for (const key of ["genome", "change", "fitnessBand", "mode", "probe"]) delete s[key];
    fs.writeFileSync(path.join(dir, "db.json"), JSON.stringify(db));
    const { proposal, archive } = await propose(dir);
    expect(proposal?.proposer).toMatch(/^(mutation|crossover)$/);
    expect(archive.summary("e000002")?.change).toMatchObject({ gene: expect.any(String) });
    // The writer's close wrote the rebuilt summaries back.
    const again = JSON.parse(fs.readFileSync(path.join(dir, "db.json"), "utf8")) as { experiments: Record<string, unknown>[] };
    expect(again.experiments.every((s) => ["genome", "change", "fitnessBand", "mode", "probe"].every((k) => k in s))).toBe(true);
  });

  it("reads one body to say why nothing can be proposed: the failed seed's reason", async () => {
    const seed = SEED_GENOMES.delta_net!;
    const failed = { ...experiment(1, null, seed, null), status: "failed" as const, fitness: null, reason: "the corpus is missing" };
    const dir = await archiveOf([failed]);
    expect((await propose(dir)).proposal?.proposer).toBe("seed"); // a dead seed is proposed again, once per run
    const { proposal, why, bodyReads } = await propose(dir, new Set([genomeKey(seed)]));
    expect(proposal).toBeNull();
    expect(why).toBe("no finished experiment with a fitness to build on: seed e000001 (design-1) ended failed (the corpus is missing); see `archlab show e000001`");
    expect(bodyReads).toBe(1);
  });
});
