// Proxy fidelity (issue 14): does the quick proxy rank layers the way the lm-cpu rung does? Every layer (the
// baselines in experiments/layers, ASI-Arch's published layers from ../shared when present, and generated
// candidates: one-gene mutants of DeltaNet from the offline proposer's operators through codegen, or the finished
// candidates of a campaign archive) is trained through both stages on the same seed, as real harness runs; then
// Spearman's rho and the pairwise ranking agreement between the proxy's score (and its eval loss) and lm-cpu's
// held-out loss. Each layer's row is written to the JSON file as soon as it is measured, so a stopped run keeps
// what it measured and `--fidelity-resume FILE[,FILE...]` continues it (rows for the same code, presets and seed
// are kept; runs that finished are also reused from runs/bench/cache). Then the campaign's own fitness: the
// DeltaNet baseline's proxy on `--fidelity-floor-seeds N` seeds gives the noise floor and the baseline means,
// and every layer's fitness (the default noise-scaled formula, as a campaign computes it) is ranked the same way.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PQueue from "p-queue";
import { pairwiseAgreement, spearman } from "../src/analyst/ranking.ts";
import { higherIsBetter } from "../src/analyst/verdicts.ts";
import { computeFitness, fitnessInputs, FitnessConfig } from "../src/analyst/fitness.ts";
import { Archive } from "../src/archive/archive.ts";
import { SEED_GENOMES, genomeKey, genomeName } from "../src/contracts/genome.ts";
import type { RunResult } from "../src/contracts/result.ts";
import { generateLayer } from "../src/engineer/codegen.ts";
import { UserError } from "../src/errors.ts";
import { EXPERIMENTS_DIR, PROJECT_ROOT } from "../src/paths.ts";
import { mutate } from "../src/researcher/operators.ts";
import { seededRng } from "../src/researcher/rng.ts";
import { runHarness } from "../src/runner/harness.ts";
import { stageSpec, type LmPreset, type ProxyPreset, type StageRequest } from "../src/runner/stages.ts";
import { baselineRuns, combineSeeds } from "../src/campaign/baseline.ts";

/** Where the benches keep finished runs by content (spec minus paths, plus the layer file): `--only yield`'s lm
 * rung and `--only fidelity` train the same layer on the same rung once between them. */
export const BENCH_RUN_CACHE = path.join("runs", "bench", "cache");

/**
 * One run, from the cache when the same spec and layer source finished ok before (then the result is reused).
 * The run directory is named by the layer's content, stage, preset and seed, so a killed LM run resumes from its
 * checkpoint when asked again.
 */
export async function trainCached(req: Omit<StageRequest, "runDir">, cacheDir = BENCH_RUN_CACHE): Promise<RunResult> {
  const sha = createHash("sha256").update(fs.readFileSync(req.layerPath)).digest("hex").slice(0, 12);
  const preset = req.stage === "lm" ? req.lm?.preset : req.proxy?.preset;
  const spec = stageSpec({ ...req, runDir: path.resolve(cacheDir, "runs", `${sha}-${req.stage}-${preset}-seed${req.seed ?? 0}`) });
  let fresh: RunResult | null = null;
  const runs = await baselineRuns(cacheDir, spec.layer.path, [spec], async (s) => (fresh = (await runHarness(s, { runDir: path.dirname(s.result_path) })).result));
  return runs.ok ? runs.results[0]! : (fresh ?? runs.result);
}

const TIMEOUT_FACTOR = 3;

export const ASI_ARCH_PROGRAMS = path.resolve(PROJECT_ROOT, "..", "shared", "asi-arch", "programs.json");

export interface FidelityOptions {
  proxyPreset: ProxyPreset;
  lmPreset: LmPreset;
  seed: number;
  /** Runs at once (one thread each). */
  parallel: number;
  /** Generated one-gene mutants of DeltaNet (when no archive is given). */
  generated: number;
  /** A campaign archive whose finished candidates stand in for the generated ones (confirmed-better first). */
  archive?: string;
  /** How many of the archive's candidates. */
  fromArchive: number;
  out: string;
  resume?: string;
  /** Only these layer names (default: all). */
  layers?: string[];
  /** Seeds (from `seed` on) of the DeltaNet baseline's proxy: its spread is the fitness's noise floor (0: no fitness row). */
  floorSeeds: number;
}

export const FIDELITY_DEFAULTS: FidelityOptions = {
  proxyPreset: "quick", lmPreset: "lm-cpu", seed: 0, parallel: 1, generated: 3, fromArchive: 4, floorSeeds: 3,
  out: path.join("runs", "bench", "fidelity.json"),
};

interface Layer { name: string; source: "baseline" | "asi-arch" | "generated"; path: string; className: string }

export interface FidelityRow {
  name: string;
  source: Layer["source"];
  codeSha256: string;
  key: string;
  proxy: { status: string; score: number | null; evalLoss: number | null; wallS: number; metrics?: Record<string, number> };
  lm: { status: string; loss: number | null; score: number | null; wallS: number };
}

const metric = (r: RunResult, name: string): number | null => {
  const v = (r.metrics as Record<string, unknown> | undefined)?.[name];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

/** Each file's first class in `__all__`, read without importing it (as bench/__init__.py does). */
function baselineLayers(): Layer[] {
  const dir = path.join(EXPERIMENTS_DIR, "layers");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".py") && !f.startsWith("_")).sort().flatMap((f) => {
    const cls = /__all__\s*=\s*\[\s*["'](\w+)["']/.exec(fs.readFileSync(path.join(dir, f), "utf8"))?.[1];
    return cls ? [{ name: path.basename(f, ".py"), source: "baseline" as const, path: path.join(dir, f), className: cls }] : [];
  });
}

function asiArchLayers(dir: string): Layer[] {
  const records = JSON.parse(fs.readFileSync(ASI_ARCH_PROGRAMS, "utf8")) as { name: string; program: string }[];
  return records.map((r) => {
    const file = path.join(dir, `${r.name}.py`);
    fs.writeFileSync(file, r.program);
    return { name: r.name, source: "asi-arch" as const, path: file, className: "DeltaNet" };
  });
}

/** One-gene mutants of the DeltaNet seed, drawn as the offline proposer draws them (seeded), through codegen. */
export function mutantLayers(n: number, dir: string): Layer[] {
  const rng = seededRng(20261201);
  const taken = new Set<string>();
  const layers: Layer[] = [];
  while (layers.length < n) {
    const child = mutate(SEED_GENOMES.delta_net!, rng, {}, taken);
    if (!child) break;
    const name = genomeName(child.genome);
    taken.add(genomeKey(child.genome));
    if (layers.some((l) => l.name === name)) continue;
    const file = path.join(dir, `${name}.py`);
    fs.writeFileSync(file, generateLayer(child.genome, `fidelity: ${child.change.gene} ${child.change.from} -> ${child.change.to}`));
    layers.push({ name, source: "generated", path: file, className: "DeltaNet" });
  }
  return layers;
}

export async function archiveLayers(dir: string, n: number): Promise<Layer[]> {
  const archive = await Archive.open(dir, { mode: "read" });
  try {
    const rank = (e: ReturnType<Archive["experiments"]>[number]) => (e.confirmations?.some((c) => c.verdict === "confirmed better") ? 1 : 0);
    return archive.experiments()
      .filter((e) => e.status === "done" && e.codeHash && e.fitness && e.proposer !== "seed")
      .sort((a, b) => rank(b) - rank(a) || b.fitness!.value - a.fitness!.value)
      .slice(0, n)
      .map((e) => ({ name: `${e.id}-${e.name}`, source: "generated" as const, path: archive.codePath(e.codeHash!), className: "DeltaNet" }));
  } finally {
    await archive.close();
  }
}

async function measure(layer: Layer, key: string, sha: string, opts: FidelityOptions): Promise<FidelityRow> {
  // A timeout is a limit, not part of the measurement: on a loaded shared machine a heavy layer's proxy run took
  // 610 s against quick's 600 s, so the bench allows TIMEOUT_FACTOR times each preset's limit.
  const run = (stage: "proxy" | "lm") => {
    const req = { stage, layerPath: layer.path, className: layer.className, seed: opts.seed,
      proxy: { preset: opts.proxyPreset, corpus: null }, lm: { preset: opts.lmPreset } };
    const limit = stageSpec({ ...req, runDir: os.tmpdir() }).timeout_s;
    return trainCached({ ...req, timeoutS: limit * TIMEOUT_FACTOR });
  };
  const proxy = await run("proxy");
  const lm = await run("lm");
  return {
    name: layer.name, source: layer.source, codeSha256: sha, key,
    proxy: { status: proxy.status, score: metric(proxy, "score"), evalLoss: metric(proxy, "eval_loss"), wallS: proxy.wall_s,
      metrics: Object.fromEntries(Object.entries(proxy.metrics ?? {}).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]))) },
    lm: { status: lm.status, loss: metric(lm, "tokens/loss"), score: metric(lm, "score"), wallS: lm.wall_s },
  };
}

/**
 * The table's rank statistics: the proxy's score and its eval loss against lm-cpu's held-out loss, each metric
 * alone, and (given the baseline's combined proxy metrics, combineSeeds) the campaign's fitness.
 */
export function fidelityStats(rows: readonly FidelityRow[], baseline: Record<string, number> | null = null, fitness = FitnessConfig.parse({})) {
  const ok = rows.filter((r) => r.proxy.status === "ok" && r.lm.status === "ok" && r.proxy.score !== null && r.proxy.evalLoss !== null && r.lm.loss !== null);
  const negLm = ok.map((r) => -r.lm.loss!);
  const by = (x: number[]) => ({ spearman: spearman(x, negLm), pairwise: pairwiseAgreement(x, negLm) });
  // Each proxy metric alone (per task, the LM's bits per byte...): which part of the proxy carries the ranking.
  const names = ok.length ? Object.keys(ok[0]!.proxy.metrics ?? {}).filter((m) => ok.every((r) => r.proxy.metrics?.[m] !== undefined)) : [];
  const byMetric = Object.fromEntries(names.map((m) => [m, by(ok.map((r) => (higherIsBetter(m) ? 1 : -1) * r.proxy.metrics![m]!))]));
  const fitnessOf = (r: FidelityRow) => computeFitness(fitnessInputs({ eval_loss: r.proxy.evalLoss!, score: r.proxy.score! }, baseline, null, 1), fitness)?.value ?? null;
  const values = baseline ? ok.map(fitnessOf) : [];
  const fitnessRank = values.length && values.every((v) => v !== null) ? by(values as number[]) : null;
  return { layers: ok.length, score: by(ok.map((r) => r.proxy.score!)), evalLoss: by(ok.map((r) => -r.proxy.evalLoss!)), byMetric, fitness: fitnessRank };
}

/** The benchmark weights the fidelity bench also ranks by (the loss's weight 1). */
const BENCHMARK_WEIGHTS = [0, 0.1, 0.25, 0.5, 1];

const f = (v: number | null, d = 4) => (v === null ? "-" : v.toFixed(d));

export async function benchFidelity(opts: FidelityOptions = FIDELITY_DEFAULTS): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-fidelity-"));
  const notes: string[] = [];
  // Baselines, then generated candidates, then ASI-Arch's layers: a run stopped early still spans the kinds.
  const layers = baselineLayers();
  layers.push(...(opts.archive ? await archiveLayers(opts.archive, opts.fromArchive) : mutantLayers(opts.generated, tmp)));
  if (fs.existsSync(ASI_ARCH_PROGRAMS)) layers.push(...asiArchLayers(tmp));
  else notes.push(`ASI-Arch's layers skipped: ${ASI_ARCH_PROGRAMS} is absent`);

  if (opts.layers) layers.splice(0, layers.length, ...layers.filter((l) => opts.layers!.includes(l.name)));
  const keyOf = (sha: string) => `${sha}:${opts.proxyPreset}:${opts.lmPreset}:${opts.seed}`;
  const previous = new Map<string, FidelityRow>();
  for (const file of opts.resume?.split(",") ?? []) {
    if (!fs.existsSync(file)) throw new UserError(`--fidelity-resume: no such file ${file}`);
    for (const row of (JSON.parse(fs.readFileSync(file, "utf8")) as { rows: FidelityRow[] }).rows) previous.set(row.key, row);
  }
  const rows: FidelityRow[] = [];
  let floor: Record<string, number> | null = null;
  const started = performance.now();
  const write = () => {
    fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
    const { out: _out, resume: _resume, ...settings } = opts;
    fs.writeFileSync(opts.out, JSON.stringify({ at: new Date().toISOString(), machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}`,
      settings, wallS: (performance.now() - started) / 1000, rows, baseline: floor, stats: fidelityStats(rows, floor) }, null, 2) + "\n");
  };
  const queue = new PQueue({ concurrency: opts.parallel });
  for (const layer of layers) {
    const sha = createHash("sha256").update(fs.readFileSync(layer.path)).digest("hex");
    const kept = previous.get(keyOf(sha));
    if (kept) { rows.push(kept); continue; }
    void queue.add(async () => {
      rows.push(await measure(layer, keyOf(sha), sha, opts));
      write();
    });
  }
  await queue.onIdle();
  // The noise floor a campaign would measure: the baseline's proxy on floorSeeds seeds (the table's seed first).
  const base = baselineLayers().find((l) => l.name === "delta_net")!;
  const floorRuns = await Promise.all(Array.from({ length: opts.floorSeeds }, (_, i) => queue.add(() =>
    trainCached({ stage: "proxy", layerPath: base.path, className: base.className, seed: opts.seed + i, proxy: { preset: opts.proxyPreset, corpus: null } }))));
  const okFloor = floorRuns.filter((r): r is RunResult => r?.status === "ok");
  floor = okFloor.length >= 2 ? combineSeeds(okFloor) : null;
  if (opts.floorSeeds > 0 && !floor) notes.push(`no fitness row: ${okFloor.length} of ${opts.floorSeeds} baseline seed(s) trained`);
  write();

  const order = new Map(layers.map((l, i) => [l.name, i]));
  rows.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  const stats = fidelityStats(rows, floor);
  const pct = (s: number | null) => (s === null ? "-" : `${(100 * s).toFixed(0)}%`);
  const lines = [
    `proxy preset ${opts.proxyPreset} vs ${opts.lmPreset}, seed ${opts.seed}, ${opts.parallel} run(s) at a time; ${((performance.now() - started) / 1000).toFixed(0)} s; rows in ${opts.out}`,
    ...notes, "",
    `| layer | source | proxy score | proxy eval loss | ${opts.lmPreset} loss | ${opts.lmPreset} recall | proxy s | lm s |`,
    "|---|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.name} | ${r.source} | ${r.proxy.status === "ok" ? f(r.proxy.score) : r.proxy.status} | ${f(r.proxy.evalLoss)} | ${r.lm.status === "ok" ? f(r.lm.loss) : r.lm.status} | ${f(r.lm.score, 3)} | ${r.proxy.wallS.toFixed(0)} | ${r.lm.wallS.toFixed(0)} |`),
    "",
    `${stats.layers} layers with both results (${stats.score.pairwise.pairs} pairs ordered by ${opts.lmPreset}):`,
    `  proxy score     vs ${opts.lmPreset} loss: Spearman rho ${f(stats.score.spearman, 3)}, pairwise agreement ${pct(stats.score.pairwise.share)} (${stats.score.pairwise.agree} agree, ${stats.score.pairwise.tied} tied)`,
    `  proxy eval loss vs ${opts.lmPreset} loss: Spearman rho ${f(stats.evalLoss.spearman, 3)}, pairwise agreement ${pct(stats.evalLoss.pairwise.share)} (${stats.evalLoss.pairwise.agree} agree, ${stats.evalLoss.pairwise.tied} tied)`,
    ...(stats.fitness && floor
      ? [`  campaign fitness vs ${opts.lmPreset} loss: Spearman rho ${f(stats.fitness.spearman, 3)}, pairwise agreement ${pct(stats.fitness.pairwise.share)} ` +
          `(the default formula; the baseline's proxy over seeds ${opts.seed}..${opts.seed + opts.floorSeeds - 1}: eval loss ${f(floor.eval_loss!)} ± ${f(floor["eval_loss:std"] ?? null)}, score ${f(floor.score!)} ± ${f(floor["score:std"] ?? null)})`,
        "    the same noise formula at other benchmark weights (loss weight 1): " + BENCHMARK_WEIGHTS.map((w) => {
          const st = fidelityStats(rows, floor, FitnessConfig.parse({ weights: { benchmark: w } })).fitness;
          return `${w}: ${pct(st?.pairwise.share ?? null)}`;
        }).join(", ") + `; ASI-Arch's formula: ${pct(fidelityStats(rows, floor, FitnessConfig.parse({ kind: "asi-arch" })).fitness?.pairwise.share ?? null)}`]
      : []),
    "  target (the literature's bar between a small and a large rung): >= 80% pairwise agreement",
    "  each proxy metric alone:",
    ...Object.entries(stats.byMetric).map(([m, st]) => `    ${m.padEnd(20)} rho ${f(st.spearman, 3)}, pairwise ${pct(st.pairwise.share)}`),
  ];
  return lines.join("\n");
}
