/**
 * Import of ASI-Arch's published search (GAIR-NLP/ASI-Arch): `tree.json` ({total_records, results: [{index, name,
 * parent, score, name_new}]}) and the `106.json` program records ([{index, parent, name, program, motivation,
 * summary, parameters, score, result: {train, test}}], numbers often as strings). Each node becomes an experiment
 * with proposer "import": its ASI-Arch index, parent index and new name in `change`, its score as the fitness
 * (formula "asi-arch score"), its parent mapped to the imported parent. Nodes with a program also get their code
 * (committed on top of the nearest imported ancestor's commit), motivation and summary (as the analysis) texts,
 * and a "verify" stage holding their final training loss and benchmark scores. Importing again adds only what
 * is new (nodes are matched by index), so a tree and its programs may be imported in either order.
 */
import fs from "node:fs";
import { z } from "zod";
import type { Experiment, StageSummary } from "../contracts/experiment.ts";
import { UserError } from "../errors.ts";
import type { Archive, NewExperiment } from "./archive.ts";
import { firstIssue } from "../errors.ts";

export const ASI_ARCH_SOURCE = "asi-arch";

const Index = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const ParentIndex = z.union([Index, z.null(), z.enum(["", "None", "null", "-1"]).transform(() => null), z.literal(-1).transform(() => null)]);
const Score = z.union([z.number(), z.string(), z.null()]).transform((value) => {
  const n = value === null || value === "" ? NaN : Number(value);
  return Number.isFinite(n) ? n : null;
});

const TreeFile = z.object({
  total_records: z.number().int().optional(),
  results: z.array(z.looseObject({
    index: Index, name: z.string(), parent: ParentIndex, score: Score.optional(), name_new: z.string().nullish(),
  })),
});

const ProgramRecord = z.looseObject({
  index: Index,
  parent: ParentIndex,
  name: z.string(),
  name_new: z.string().nullish(),
  program: z.string(),
  motivation: z.string().nullish(),
  summary: z.string().nullish(),
  parameters: z.union([z.string(), z.number()]).nullish(),
  score: Score.optional(),
  result: z.union([z.looseObject({ train: z.string().nullish(), test: z.string().nullish() }), z.string()]).nullish(),
});
const ProgramsFile = z.array(ProgramRecord);

export interface AsiArchNode {
  index: number;
  parent: number | null;
  name: string;
  nameNew: string | null;
  score: number | null;
  program: z.infer<typeof ProgramRecord> | null;
}

/** Reads a tree.json or 106.json-style file into nodes (a one-line UserError when it is neither). */
export function readAsiArchFile(file: string): { format: "tree" | "programs"; nodes: AsiArchNode[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `no such file: ${file}` : `${file} is not valid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(raw)) {
    const parsed = ProgramsFile.safeParse(raw);
    if (!parsed.success) throw new UserError(`${file} is not an ASI-Arch program list (${firstIssue(parsed.error)})`);
    return {
      format: "programs",
      nodes: parsed.data.map((p) => ({ index: p.index, parent: p.parent, name: p.name, nameNew: p.name_new ?? null, score: p.score ?? null, program: p })),
    };
  }
  const parsed = TreeFile.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file} is not an ASI-Arch tree.json (${firstIssue(parsed.error)})`);
  return {
    format: "tree",
    nodes: parsed.data.results.map((r) => ({ index: r.index, parent: r.parent, name: r.name, nameNew: r.name_new ?? null, score: r.score ?? null, program: null })),
  };
}

/** Tree nodes with programs merged in by index (programs not in the tree are added). */
export function mergeNodes(tree: AsiArchNode[], programs: AsiArchNode[]): AsiArchNode[] {
  const byIndex = new Map<number, AsiArchNode>();
  for (const node of tree) {
    if (byIndex.has(node.index)) throw new UserError(`ASI-Arch index ${node.index} appears twice`);
    byIndex.set(node.index, node);
  }
  for (const p of programs) {
    const node = byIndex.get(p.index);
    byIndex.set(p.index, node ? { ...node, score: node.score ?? p.score, program: p.program } : p);
  }
  return [...byIndex.values()];
}

/** Parents before children; nodes whose parent is absent become roots. Cycles are an error. */
export function topological(nodes: AsiArchNode[]): AsiArchNode[] {
  const byIndex = new Map(nodes.map((n) => [n.index, n]));
  const children = new Map<number, AsiArchNode[]>();
  const roots: AsiArchNode[] = [];
  for (const node of [...nodes].sort((a, b) => a.index - b.index)) {
    if (node.parent === null || !byIndex.has(node.parent)) roots.push(node);
    else children.set(node.parent, [...(children.get(node.parent) ?? []), node]);
  }
  const order: AsiArchNode[] = [];
  const queue = [...roots];
  while (queue.length) {
    const node = queue.shift()!;
    order.push(node);
    queue.push(...(children.get(node.index) ?? []));
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((n) => !order.includes(n));
    throw new UserError(`ASI-Arch tree has a cycle through index ${stuck?.index}`);
  }
  return order;
}

export interface ImportSummary {
  campaign: string;
  added: number;
  skipped: number;
  withCode: number;
}

/** Imports the nodes into a writable archive; see the module comment. */
export async function importAsiArch(archive: Archive, nodes: AsiArchNode[], source: Record<string, unknown>): Promise<ImportSummary> {
  const ordered = topological(nodes);
  const known = new Map<number, Experiment>();
  for (const e of archive.experiments({ proposer: "import" })) {
    if (e.change?.source === ASI_ARCH_SOURCE && typeof e.change.index === "number") known.set(e.change.index, e);
  }
  const fresh = ordered.filter((n) => !known.has(n.index));
  const campaign = await archive.insertCampaign({
    name: "import asi-arch",
    config: { ...source, nodes: nodes.length, added: fresh.length },
    endedAt: new Date().toISOString(),
    stopReason: "imported",
  });
  const ids = await archive.newIds(fresh.length);
  const idOf = new Map<number, string>([...known].map(([index, e]) => [index, e.id]));
  // Ids follow the order of ASI-Arch's indexes; inserts go parents first.
  [...fresh].sort((a, b) => a.index - b.index).forEach((node, i) => idOf.set(node.index, ids[i]!));
  const records: NewExperiment[] = fresh.map((node) => ({
    id: idOf.get(node.index)!,
    name: node.name,
    parentId: node.parent === null ? null : (idOf.get(node.parent) ?? null),
    campaign: campaign.id,
    proposer: "import",
    status: "done",
    change: { source: ASI_ARCH_SOURCE, index: node.index, parent: node.parent, name_new: node.nameNew },
    fitness: node.score === null ? null : { value: node.score, inputs: { score: node.score }, terms: { score: node.score }, formula: "asi-arch score (imported)" },
    stages: node.program ? programStages(node.program) : {},
  }));
  await archive.insertExperiments(records);

  // Code, texts and commits, parents first so each commit sits on its nearest committed ancestor.
  const commitOf = new Map<number, string>();
  for (const [index, e] of known) if (e.commit) commitOf.set(index, e.commit);
  let withCode = 0;
  const byIndex = new Map(ordered.map((n) => [n.index, n]));
  for (const node of ordered) {
    const id = idOf.get(node.index)!;
    if (!node.program || commitOf.has(node.index)) continue;
    const motivation = node.program.motivation ?? "";
    if (motivation) await archive.writeText(id, "motivation", motivation);
    if (node.program.summary) await archive.writeText(id, "analysis", node.program.summary);
    let parentCommit: string | null = null;
    for (let up = node.parent; up !== null && parentCommit === null; up = byIndex.get(up)?.parent ?? null) {
      parentCommit = commitOf.get(up) ?? null;
      if (!byIndex.has(up)) break;
    }
    const subject = `${node.name}: ${motivation.split(/\n|(?<=\.)\s/)[0]?.trim().slice(0, 120) ?? ""}`.replace(/:\s*$/, "");
    commitOf.set(node.index, await archive.commitCandidate(id, node.program.program, subject, parentCommit));
    withCode++;
  }
  return { campaign: campaign.id, added: fresh.length, skipped: ordered.length - fresh.length, withCode };
}

/** ASI-Arch's verification results as one stage: final training loss and the benchmark scores. */
function programStages(program: z.infer<typeof ProgramRecord>): Record<string, StageSummary> {
  const result = typeof program.result === "string" ? parsePythonishDict(program.result) : program.result;
  const metrics: Record<string, number | null> = {};
  const train = csvRow(result?.train ?? null);
  if (train) {
    const losses = Object.values(train).filter((v): v is number => v !== null);
    if (losses.length) metrics.loss = losses[losses.length - 1]!;
  }
  const test = csvRow(result?.test ?? null);
  if (test) {
    for (const [key, value] of Object.entries(test)) metrics[key === "average" ? "benchmark" : key] = value;
  }
  if (Object.keys(metrics).length === 0) return {};
  return {
    verify: {
      status: "ok", errorKind: null, message: null, metrics, probes: null, fingerprint: null,
      params: parseParams(program.parameters), wallS: 0, deviceS: null, processS: 0, runDir: "",
    },
  };
}

/** The first data row of a two-line CSV (header, row), keyed by header, the row label column dropped. */
function csvRow(text: string | null): Record<string, number | null> | null {
  if (!text) return null;
  const [head, row] = text.trim().split("\n");
  if (!head || !row) return null;
  const keys = head.split(",");
  const values = row.split(",");
  const out: Record<string, number | null> = {};
  keys.forEach((key, i) => {
    if (i === 0 || !key) return;
    const n = Number(values[i]);
    out[key] = Number.isFinite(n) ? n : null;
  });
  return out;
}

function parsePythonishDict(text: string): { train?: string; test?: string } | null {
  try {
    return JSON.parse(text) as { train?: string; test?: string };
  } catch {
    return null;
  }
}

/** "495.73M" -> 495730000; numbers pass through; anything else -> null. */
function parseParams(value: string | number | null | undefined): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? Math.round(value) : null;
  const match = /^\s*([\d.]+)\s*([KMB]?)\s*$/i.exec(value ?? "");
  if (!match) return null;
  const scale = { "": 1, K: 1e3, M: 1e6, B: 1e9 }[match[2]!.toUpperCase() as "" | "K" | "M" | "B"];
  return Math.round(Number(match[1]) * scale);
}
