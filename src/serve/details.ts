/**
 * A candidate's full page as JSON: record, texts, code, diff vs parent (the archive's git), curves (its own,
 * its parent's, the baseline's, from the result files), probes, the agents' transcript, costs, provenance,
 * notes and steering. File reads stay inside the archive folder: a run dir recorded outside it is ignored.
 */
import fs from "node:fs";
import path from "node:path";
import { RunResult } from "../contracts/result.ts";
import type { Archive } from "../archive/archive.ts";
import { readAgentLog } from "../llm/log.ts";
import type { SteeringState } from "../steering/state.ts";

const TEXT_ORDER = ["motivation", "design", "analysis", "experience", "steering"];

/** `rel` resolved inside `root`, or null when it would leave it. */
export function inside(root: string, rel: string): string | null {
  const base = path.resolve(root);
  const full = path.resolve(base, rel);
  return full === base || full.startsWith(base + path.sep) ? full : null;
}

export interface Curve {
  label: string;
  stage: string;
  steps: number[];
  loss: (number | null)[];
}

/** A stage's first result file (seed0 when it ran several seeds). */
function resultOf(archive: Archive, runDir: string): RunResult | null {
  const dir = inside(archive.dir, runDir);
  if (!dir) return null;
  for (const file of [path.join(dir, "result.json"), path.join(dir, "seed0", "result.json")]) {
    try {
      const parsed = RunResult.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (parsed.success) return parsed.data;
    } catch {
      // not this one
    }
  }
  return null;
}

function curveOf(label: string, stage: string, r: RunResult | null): Curve | null {
  if (!r || r.curve.length === 0) return null;
  return { label, stage, steps: r.curve.map((p) => p.step), loss: r.curve.map((p) => p.loss) };
}

/** The newest cached baseline's first seed, for the curves' reference line. */
export function baselineCurve(archive: Archive): Curve | null {
  const dir = path.join(archive.dir, "baselines");
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {
    return null;
  }
  const newest = files.map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs })).sort((a, b) => b.t - a.t)[0];
  if (!newest) return null;
  try {
    const entry = JSON.parse(fs.readFileSync(path.join(dir, newest.f), "utf8")) as { results?: unknown[] };
    const parsed = RunResult.safeParse(entry.results?.[0]);
    return curveOf("baseline", "proxy", parsed.success ? parsed.data : null);
  } catch {
    return null;
  }
}

export function curvesOf(archive: Archive, id: string, label = id): Curve[] {
  const e = archive.getExperiment(id);
  if (!e) return [];
  return Object.entries(e.stages).map(([stage, s]) => curveOf(label, stage, resultOf(archive, s.runDir))).filter((c): c is Curve => c !== null);
}

export async function candidateDetails(archive: Archive, id: string, steering: SteeringState) {
  const e = archive.requireExperiment(id);
  const kinds = archive.textKinds(id).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const texts: Record<string, string> = {};
  for (const kind of kinds) texts[kind] = (await archive.readText(id, kind)) ?? "";
  const code = e.codeHash ? await archive.readCode(e.codeHash).catch(() => null) : null;
  const parent = e.parentId ? archive.getExperiment(e.parentId) ?? null : null;
  let diff: string | null = null;
  if (parent?.codeHash && e.codeHash) diff = await archive.diff(parent.id, id).catch(() => null);
  const results = Object.fromEntries(Object.entries(e.stages).map(([stage, s]) => [stage, resultOf(archive, s.runDir)]));
  const env = Object.values(results).find((r) => r)?.env ?? null;
  const curves = [
    ...curvesOf(archive, id),
    ...(parent ? curvesOf(archive, parent.id, `parent ${parent.id}`) : []),
    ...[baselineCurve(archive)].filter((c): c is Curve => c !== null),
  ];
  const agents = readAgentLog(path.join(archive.dir, "runs", id, "agents.jsonl"));
  return {
    experiment: e,
    parent: parent && { id: parent.id, name: parent.name, fitness: parent.fitness?.value ?? null },
    children: archive.childSummaries(id).map((c) => ({ id: c.id, name: c.name, status: c.status, fitness: c.fitness })),
    texts, code, diff, curves,
    probes: Object.fromEntries(Object.entries(e.stages).filter(([, s]) => s.probes).map(([stage, s]) => [stage, s.probes])),
    agents,
    ledger: archive.ledger({ experimentId: id }),
    provenance: {
      commit: e.commit, codeHash: e.codeHash, genomeKey: e.genomeKey, fingerprint: e.fingerprint, tags: await archive.tags(id).catch(() => []),
      env, campaign: e.campaign,
    },
    notes: archive.notes(id),
    steering: steering.log.filter((r) => "experimentId" in r && r.experimentId === id),
    pinned: steering.pinned.has(id),
    vetoed: steering.vetoed.get(id) ?? null,
  };
}

function rank(kind: string): number {
  const i = TEXT_ORDER.indexOf(kind);
  return i === -1 ? TEXT_ORDER.length : i;
}
