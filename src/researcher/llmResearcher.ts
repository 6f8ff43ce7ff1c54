/**
 * The LLM researcher (DESIGN §2.2-2.3, issue 7): picks a parent by the sampling policy, chooses a proposal mode
 * from each mode's record, shows the model the parent (results, analysis, experience, code), curated exemplars,
 * cognition retrieved for the parent's weaknesses and the humans' notes, and asks for a plan. Each plan passes
 * the novelty gate (the k most similar archived motivations by BM25 + an LLM verdict); a repeat is re-planned
 * with the repeats shown, a bounded number of times. Model failures come back as values, never as throws
 * (BudgetExceeded and aborts do throw: the campaign stops on them).
 */
import type { AgentFailure, Experiment, ProposalMode } from "../contracts/experiment.ts";
import type { Archive } from "../archive/archive.ts";
import type { CognitionBase } from "../cognition/base.ts";
import { formatCognition } from "../cognition/base.ts";
import type { LlmClient, StructuredOutcome } from "../llm/client.ts";
import { ResearcherReply } from "../llm/replies.ts";
import type { AgentsConfig } from "../contracts/agents.ts";
import { clip, describeExperiment } from "../analyst/describe.ts";
import { curateExemplars, genomeSpace, relevantNotes, type ExemplarCandidate } from "./context.ts";
import { GENE_NAMES, genomeKey, GenomeSchema, normalise, type Genome } from "../contracts/genome.ts";
import { chooseMode, modeRecords } from "./modes.ts";
import type { Gate } from "../gate/gate.ts";
import type { NoveltyRecord } from "../gate/novelty.ts";
import { rankedCandidates } from "./propose.ts";
import type { Rng } from "./rng.ts";
import { selectParent, type SamplingConfig } from "./sampling.ts";

/**
 * What the researcher reads from the archive: the in-memory summaries to sample and judge from, and the bodies
 * of the few experiments it shows the model (the parent, exemplars, the parent's children).
 */
export type ArchiveReader = Pick<Archive, "summaries" | "childSummaries" | "getExperiment" | "readText" | "readCode" | "notes">;

export interface ResearcherDeps {
  client: LlmClient;
  archive: ArchiveReader;
  cognition: CognitionBase;
  /** The gate: genome repeats and the text gate (BM25 neighbours + the LLM judge). */
  gate: Gate;
  agents: AgentsConfig;
  sampling: SamplingConfig;
  rng: Rng;
  /** The id the plan's experiment will get: its agent calls are logged under it. */
  experimentId: string;
  logFile: string;
  /** Genome keys archived or in flight. */
  taken: ReadonlySet<string>;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface LlmPlan {
  name: string;
  motivation: string;
  design: string;
  mode: ProposalMode;
  genome: Genome | null;
  genomeKey: string | null;
  /** Genome mode: the genes changed ({gene, from, to} for one, {genes: {...}} for several); code mode: null. */
  change: Record<string, unknown> | null;
  parentId: string;
  referenceIds: string[];
  /** Plans asked for (1: the first was accepted). */
  plans: number;
  novelty: NoveltyRecord;
}

export type ResearchOutcome =
  | { kind: "plan"; plan: LlmPlan; failures: AgentFailure[] }
  /** Every plan was judged a repeat (or re-proposed an archived genome): the last one, for the record. */
  | { kind: "repeated"; plan: LlmPlan; failures: AgentFailure[] }
  /** No usable plan (invalid replies, endpoint down): the campaign falls back to the offline proposer. */
  | { kind: "failed"; failures: AgentFailure[] }
  /** Nothing finished to build on yet. */
  | { kind: "none" };

export async function planWithLlm(deps: ResearcherDeps): Promise<ResearchOutcome> {
  const { archive, agents, rng } = deps;
  const now = deps.now ?? (() => new Date());
  const all = archive.summaries(); // no body read: the few shown are fetched below
  const genomeOnly = !agents.modes.includes("code");
  const ranked = rankedCandidates(all, { genomeOnly });
  const selection = selectParent(ranked, deps.sampling, rng);
  if (!selection) return { kind: "none" };
  const byId = new Map(all.map((e) => [e.id, e]));
  const parent = archive.getExperiment(selection.parentId)!;
  const parentGenome = GenomeSchema.safeParse(parent.genome);
  const allowed = agents.modes.filter((m) => m === "code" || parentGenome.success);
  const mode = chooseMode(modeRecords(all), allowed, rng);

  const context = await researchContext(deps, parent, ranked.map((c) => c.id), selection.referenceIds);
  const failures: AgentFailure[] = [];
  const fail = (role: string, out: Extract<StructuredOutcome<unknown>, { ok: false }>) =>
    failures.push({ role, kind: out.kind, message: out.message, at: now().toISOString() });
  const avoid: string[] = [...context.avoid];
  const schema = mode === "genome" ? ResearcherReply.extend({ genome: GenomeSchema }) : ResearcherReply;
  const call = { experimentId: deps.experimentId, logFile: deps.logFile, signal: deps.signal };
  let last: LlmPlan | null = null;

  for (let n = 1; n <= agents.novelty.max_plans; n++) {
    const out = await deps.client.callStructured("researcher", "researcher", {
      mode, parent: context.parent, references: context.references, cognition: context.cognition, notes: context.notes,
      genome_space: genomeSpace(parentGenome.success ? parentGenome.data : null), avoid: avoid.length ? avoid.join("\n") : "(nothing yet)",
    }, schema, call);
    if (!out.ok) {
      fail("researcher", out);
      return last ? { kind: "repeated", plan: last, failures } : { kind: "failed", failures };
    }
    const reply = out.value;
    const plan: LlmPlan = {
      name: reply.name, motivation: reply.motivation.trim(), design: reply.design.trim(), mode,
      genome: null, genomeKey: null, change: null, parentId: parent.id, referenceIds: context.referenceIds, plans: n,
      novelty: { verdict: "unchecked", similar: [], similarTo: [], reason: "" },
    };
    last = plan;

    if (mode === "genome") {
      const genome = normalise(GenomeSchema.parse(reply.genome));
      const key = genomeKey(genome);
      const { repeated, ids } = deps.gate.genomeRepeats(key, deps.taken);
      if (key === parent.genomeKey || repeated) {
        plan.novelty = { verdict: "repeated", similar: [], similarTo: ids.length ? ids : [parent.id], reason: "this genome is already in the archive" };
        avoid.push(`- Your plan "${plan.name}" proposed a genome that is already archived${ids.length ? ` as ${ids.map((i) => `[${i}]`).join(", ")}` : ""}: change different genes or values.`);
        continue;
      }
      plan.genome = genome;
      plan.genomeKey = key;
      plan.change = geneChange(GenomeSchema.parse(parent.genome), genome);
    }

    plan.novelty = await deps.gate.text({ client: deps.client, config: agents.novelty, call, onFailure: (out) => fail("novelty", out) }, plan, byId);
    if (plan.novelty.verdict !== "repeated") return { kind: "plan", plan, failures };
    avoid.push(`- Your plan "${plan.name}" repeats ${plan.novelty.similarTo.map((i) => `[${i}]`).join(", ")}: ${plan.novelty.reason}`);
  }
  return { kind: "repeated", plan: last!, failures };
}

interface ResearchContext {
  parent: string;
  references: string;
  referenceIds: string[];
  cognition: string;
  notes: string;
  avoid: string[];
}

/**
 * The parent in full, curated exemplars within the token budget, cognition for the parent's weaknesses, notes.
 * `ranked` and `sampled` are ids: only the bodies offered as exemplars are read.
 */
async function researchContext(deps: ResearcherDeps, parent: Experiment, rankedIds: readonly string[], sampledIds: readonly string[]): Promise<ResearchContext> {
  const { archive, agents } = deps;
  const body = (id: string) => archive.getExperiment(id)!;
  const texts = async (e: Experiment) => ({
    motivation: await archive.readText(e.id, "motivation"),
    analysis: await archive.readText(e.id, "analysis"),
    experience: await archive.readText(e.id, "experience"),
  });
  const code = async (e: Experiment) => (e.codeHash ? archive.readCode(e.codeHash).catch(() => null) : null);
  const parentTexts = await texts(parent);
  const parentCode = await code(parent);
  const parentText = `${describeExperiment(parent, parentTexts, { textChars: 6000 })}${parentCode ? `\n\nCode:\n\`\`\`python\n${parentCode}\`\`\`` : ""}`;

  // Exemplars: pinned by a human first, then the leaderboard's top, then the sampling policy's references.
  const notes = archive.notes();
  const pinned = [...new Set(notes.filter((n) => n.pinned).map((n) => n.experimentId))].map((id) => archive.getExperiment(id)).filter((e): e is Experiment => e !== undefined);
  const offered: { e: Experiment; source: ExemplarCandidate["source"] }[] = [
    ...pinned.map((e) => ({ e, source: "pinned" as const })),
    ...rankedIds.slice(0, agents.context.exemplars + 1).map((id) => ({ e: body(id), source: "top" as const })),
    ...sampledIds.map((id) => ({ e: body(id), source: "reference" as const })),
  ].filter(({ e }) => e.id !== parent.id);
  const candidates: ExemplarCandidate[] = [];
  for (const { e, source } of offered.slice(0, agents.context.exemplars * 3)) {
    const brief = `${describeExperiment(e, await texts(e), { textChars: 1200 })}\n(${source === "pinned" ? "pinned by a human" : source === "top" ? "top of the leaderboard" : "sampled reference"})`;
    const c = await code(e);
    candidates.push({ id: e.id, source, brief, full: c ? `${brief}\nCode:\n\`\`\`python\n${c}\`\`\`` : brief });
  }
  const budget = Math.max(0, agents.context.max_tokens - Math.ceil(parentText.length / 4));
  const exemplars = curateExemplars(candidates, agents.context.exemplars, budget);

  // Retrieval for the parent's weaknesses: what its analysis and experience say, then what it set out to do.
  const query = [parentTexts.analysis, parentTexts.experience, parent.reason, parentTexts.motivation, parent.name].filter(Boolean).join("\n");
  const hits = agents.context.cognition > 0 ? deps.cognition.search(query, agents.context.cognition) : [];

  const shown = new Set([parent.id, ...exemplars.map((x) => x.id)]);
  const children = archive.childSummaries(parent.id).map((c) => body(c.id));
  const avoid = children.map((c) => `- [${c.id}] ${c.name} (${c.status}${c.fitness ? `, fitness ${c.fitness.value.toFixed(4)}` : ""}): ${clip(c.reason ?? "", 200)}`.replace(/: $/, ""));
  return {
    parent: parentText,
    references: exemplars.length ? exemplars.map((x) => x.text).join("\n\n") : "(none yet)",
    referenceIds: exemplars.map((x) => x.id),
    cognition: deps.cognition.entries.length ? formatCognition(hits) : "(no cognition base: import one with `archlab cognition import <dir>`)",
    notes: relevantNotes(notes, shown, (id) => archive.getExperiment(id)?.name),
    avoid: avoid.length ? ["Children of this parent already tried:", ...avoid] : [],
  };
}

/** The genes that differ: {gene, from, to} for one (an ablation the rule-based analyst attributes), else {genes}. */
export function geneChange(from: Genome, to: Genome): Record<string, unknown> | null {
  const a = normalise(from);
  const b = normalise(to);
  const changed = GENE_NAMES.filter((g) => a[g] !== b[g]);
  if (changed.length === 0) return null;
  if (changed.length === 1) return { gene: changed[0], from: a[changed[0]!], to: b[changed[0]!] };
  return { genes: Object.fromEntries(changed.map((g) => [g, { from: a[g], to: b[g] }])) };
}
