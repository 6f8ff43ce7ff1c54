/**
 * The ladder's rungs as a campaign file writes them (DESIGN §4, issue 14): `stages:` is a list, probe first, then
 * one or more training rungs (proxy, then lm rungs), each with its preset, seeds, baseline seeds, runner, timeout,
 * promotion rule and optional early-stop rule. The older mapping form `stages: {probe: {...}, proxy: {...}}`
 * is the same ladder written another way: normalizeStages turns it into the list before the one schema reads it.
 */
import path from "node:path";
import type { RunSpec } from "../contracts/runSpec.ts";
import { z } from "zod";
import { DEFAULT_PROMOTION, EarlyStopRule, PromotionRule } from "../contracts/ladder.ts";
import { MAX_EXPONENT } from "../contracts/runSpec.ts";
import { RunnerConfig } from "../runner/runner.ts";
import { DEFAULT_LM_PRESET, DEFAULT_PROXY_PRESET, LM_PRESETS, PROBE_TIMEOUT_S, PROXY_PRESETS, stageSpec } from "../runner/stages.ts";

const name = z.string().regex(/^[a-z][\w-]*$/, "lower-case letters, digits, '_' and '-', starting with a letter").optional();

export const ProbeRung = z.strictObject({
  stage: z.literal("probe"),
  name,
  max_exponent: z.number().positive().default(MAX_EXPONENT),
  max_params: z.number().int().positive().nullable().default(null),
  timeout_s: z.number().positive().default(PROBE_TIMEOUT_S),
  /** Where the stage runs: here (local) or through sbatch (slurm); see src/runner/runner.ts. */
  runner: RunnerConfig.prefault({}),
});

/** What every training rung has: seeds, the baseline's seeds (its noise floor), limits, promotion, early stop. */
const training = {
  name,
  seeds: z.number().int().positive().default(1),
  /** Seeds the baseline trains on once per rung config: their spread is the rung's noise floor. */
  baseline_seeds: z.number().int().min(2).default(3),
  timeout_s: z.number().positive().nullable().default(null),
  runner: RunnerConfig.prefault({}),
  /** Who climbs to the next rung (unused on the last rung); see README "The ladder". */
  promote: PromotionRule.default(DEFAULT_PROMOTION),
  /** Stop a run whose loss trails the baseline's curve (null: never). */
  early_stop: EarlyStopRule.nullable().default(null),
};

export const ProxyRung = z.strictObject({
  stage: z.literal("proxy"),
  /** tiny: seconds per layer, for tests and demos; quick: <= 1 min on 2 cores; full: <= 5 min. */
  preset: z.enum(PROXY_PRESETS).default(DEFAULT_PROXY_PRESET),
  corpus: z.string().nullable().default(null),
  ...training,
});

export const LmRung = z.strictObject({
  stage: z.literal("lm"),
  /** lm-cpu: one core, minutes; explore: ASI-Arch's exploration shape, a GPU; verify: larger. */
  preset: z.enum(LM_PRESETS).default(DEFAULT_LM_PRESET),
  /** A token directory from `archlab data prepare` (null: the embedded corpus, prepared once and cached). */
  data: z.string().nullable().default(null),
  ...training,
});

const RungInput = z.discriminatedUnion("stage", [ProbeRung, ProxyRung, LmRung]);
export const RUNG_STAGES = ["probe", "proxy", "lm"] as const;

export type ProbeRung = z.infer<typeof ProbeRung> & { name: string };
export type TrainingRung = (z.infer<typeof ProxyRung> | z.infer<typeof LmRung>) & { name: string };
export type Rung = ProbeRung | TrainingRung;

/** The default ladder, and what a legacy mapping fills in: probe, then the proxy. */
const DEFAULT_LADDER = [{ stage: "probe" }, { stage: "proxy" }];

/**
 * The list form as it is; the mapping form {probe: {...}, proxy: {...}, lm: {...}} as the list probe, proxy, lm
 * (probe and proxy always there, as they were). Anything else is left for the schema to reject.
 */
export function normalizeStages(raw: unknown): unknown {
  if (raw === undefined) return DEFAULT_LADDER;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const map = raw as Record<string, unknown>;
  const keys = ["probe", "proxy", ...Object.keys(map).filter((k) => k !== "probe" && k !== "proxy")];
  return keys.map((stage) => {
    const body = map[stage] ?? {};
    return body !== null && typeof body === "object" && !Array.isArray(body) ? { stage, ...body } : body;
  });
}

/** The rung at `index` of a raw `stages:` value, in list form. */
export function rungAt(raw: unknown, index: number): unknown {
  const list = normalizeStages(raw);
  return Array.isArray(list) ? list[index] : undefined;
}

/** The rung name a path index stands for (errors say `stages.proxy.preset`, not `stages.1.preset`). */
export function rungLabel(raw: unknown, index: number): string {
  const rung = rungAt(raw, index) as { name?: unknown; stage?: unknown } | undefined;
  const label = typeof rung?.name === "string" ? rung.name : typeof rung?.stage === "string" ? rung.stage : null;
  return label ?? String(index);
}

/** The ladder's order: probe first and only there, at least one training rung, proxy right after probe. */
function checkLadder(rungs: readonly z.infer<typeof RungInput>[], ctx: z.RefinementCtx): void {
  const fail = (message: string) => ctx.addIssue({ code: "custom", message, path: [] });
  if (rungs[0]?.stage !== "probe") return fail(`the first rung must be probe (the checks before any training), not ${rungs[0]?.stage ?? "nothing"}`);
  if (rungs.length < 2) return fail("no training rung after probe (add proxy or lm)");
  const order = rungs.map((r) => r.stage).join(" → ");
  if (rungs.slice(1).some((r) => r.stage === "probe")) return fail(`probe can only be the first rung (got ${order})`);
  if (rungs.slice(2).some((r) => r.stage === "proxy")) return fail(`proxy can only be the first training rung, right after probe (rungs go from cheap to expensive; got ${order})`);
  const seen = new Set<string>();
  for (const r of rungs) {
    const n = r.name ?? r.stage;
    if (seen.has(n)) return fail(`two rungs named ${n}: give one a name (e.g. name: ${n}-2)`);
    seen.add(n);
  }
}

/** `stages:` in a campaign file: either form in, the list out (every rung named), so the output parses again. */
export const Stages = z.preprocess(normalizeStages, z.array(RungInput))
  .superRefine(checkLadder)
  .transform((rungs) => rungs.map((r) => ({ ...r, name: r.name ?? r.stage })) as [ProbeRung, ...TrainingRung[]]);

interface Laddered {
  /** The archive folder: an LM rung's default token data (the embedded corpus) is prepared once in <archive>/data. */
  archive: string;
  stages: readonly Rung[];
  seed: number;
  memory_mb: number;
  devices: string;
}

export function probeRung(config: Laddered): ProbeRung {
  return config.stages[0] as ProbeRung;
}

/** The training rungs in order: the first selects candidates; each later one is climbed by promotion. */
export function trainingRungs(config: Laddered): TrainingRung[] {
  return config.stages.slice(1) as TrainingRung[];
}

/** The first training rung: every candidate trains on it; its fitness is the experiment's fitness. */
export function firstRung(config: Laddered): TrainingRung {
  return trainingRungs(config)[0]!;
}

export function rungNamed(config: Laddered, rungName: string): TrainingRung | undefined {
  return trainingRungs(config).find((r) => r.name === rungName);
}

/**
 * torch threads per CPU run: one. Measured on 2 cores with one other busy process, a d=64 proxy run trained at
 * 24k tokens/s on one thread and 4.6k on two (threads spin against each other); use --parallel for more cores.
 * GPU slots leave it to torch.
 */
export function threadsPerSlot(config: Pick<Laddered, "devices">): number | undefined {
  return config.devices === "cpu" ? 1 : undefined;
}

/** The run spec of one run on a rung: the one place a campaign turns a rung into a harness spec. */
export function rungSpec(config: Laddered, rung: Rung, run: { layerPath: string; className: string; runDir: string; seed: number; device?: string }): RunSpec {
  const probe = probeRung(config);
  return stageSpec({
    stage: rung.stage, layerPath: run.layerPath, className: run.className, runDir: run.runDir, seed: run.seed,
    memoryMb: config.memory_mb, threads: threadsPerSlot(config), device: run.device,
    probe: { max_exponent: probe.max_exponent, max_params: probe.max_params, timeout_s: probe.timeout_s },
    ...(rung.stage === "proxy" && { proxy: { preset: rung.preset, timeout_s: rung.timeout_s, corpus: rung.corpus } }),
    ...(rung.stage === "lm" && { lm: { preset: rung.preset, timeout_s: rung.timeout_s, data: rung.data, dataCache: path.join(path.resolve(config.archive), "data") } }),
  });
}
