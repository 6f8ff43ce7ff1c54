/**
 * Campaign files (YAML) and `archlab run` flags, validated with zod: unknown keys and bad values are one-line
 * errors naming the key. The validated config is frozen into the archive when the campaign starts.
 */
import { SANDBOX_MODES, type SandboxMode } from "../runner/sandbox.ts";
import fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { FitnessConfig } from "../analyst/fitness.ts";
import { DEFAULT_ARCHIVE_DIR } from "../archive/archive.ts";
import { UserError } from "../errors.ts";
import { AgentsConfig } from "../contracts/agents.ts";
import { MEMORY_FLOOR_REASON, MIN_MEMORY_MB } from "../contracts/runSpec.ts";
import { LlmConfig } from "../llm/config.ts";
import { SEED_GENOMES } from "../contracts/genome.ts";
import { SamplingConfig } from "../researcher/sampling.ts";
import { DEFAULT_MEMORY_MB, type ProxyPreset } from "../runner/stages.ts";
import { RUNG_STAGES, rungAt, rungLabel, Stages } from "./rungs.ts";
export { threadsPerSlot } from "./rungs.ts";
import { NotifyConfig } from "../report/notify.ts";

const seedNames = Object.keys(SEED_GENOMES) as [string, ...string[]];


export const CampaignConfig = z.strictObject({
  name: z.string().regex(/^[\w.-]+$/, "letters, digits, '.', '_' and '-' only").default("default"),
  archive: z.string().default(DEFAULT_ARCHIVE_DIR),
  seed: z.number().int().nonnegative().default(0),
  budget: z.strictObject({
    /** Experiments this campaign may start (resumed ones included), not counting the cached baseline. */
    experiments: z.number().int().positive().nullable().default(null),
    hours: z.number().positive().nullable().default(null),
    llm_dollars: z.number().positive().nullable().default(null),
    gpu_hours: z.number().positive().nullable().default(null),
  }).prefault({}),
  /** Stop starting experiments at this local time (HH:MM), e.g. a nightly window. */
  until: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM (24-hour)").nullable().default(null),
  parallel: z.number().int().positive().default(1),
  /** "cpu", a list of CUDA devices "cuda:0,cuda:1" (one experiment in flight per GPU), or "auto" (nvidia-smi's GPUs). */
  devices: z.string().regex(/^(cpu|auto|cuda:\d+(,cuda:\d+)*)$/, "cpu or cuda:N[,cuda:M...] or auto").default("cpu"),
  proposer: z.strictObject({
    kind: z.enum(["mutation", "random"]).default("mutation"),
    crossover_rate: z.number().min(0).max(1).default(0.1),
    /** How strongly measured gene effects steer mutations, in fitness units (lower = greedier). */
    temperature: z.number().positive().default(0.5),
    seeds: z.array(z.enum(seedNames)).min(1).default(["delta_net"]),
    sampling: SamplingConfig.prefault({}),
  }).prefault({}),
  /** The ladder (src/campaign/rungs.ts): probe, then training rungs in order; the mapping form still reads. */
  stages: Stages,
  /**
   * Before a campaign calls a candidate a discovery, its best `top` candidates that beat the baseline beyond
   * the noise band are re-trained on `seeds` fresh seeds against the baseline on the same seeds (0: never).
   */
  confirm: z.strictObject({
    top: z.number().int().nonnegative().default(3),
    seeds: z.number().int().positive().default(3),
  }).prefault({}),
  /** The layer every fitness is measured against, trained once per stage config and seed, then cached. */
  baseline: z.strictObject({
    path: z.string().default("experiments/layers/delta_net.py"),
    class_name: z.string().default("DeltaNet"),
  }).prefault({}),
  fitness: FitnessConfig.prefault({}),
  /** LLM agents (src/llm/config.ts): model, endpoint, key variable, per-role overrides, prices; null: offline. */
  llm: LlmConfig.nullable().default(null),
  /** How the LLM agents work (read only when `llm` is set). */
  agents: AgentsConfig.prefault({}),
  /** Tell a command and/or a webhook when the campaign ends, stops on a budget, fails a lot, or a run times out. */
  notify: NotifyConfig.nullable().default(null),
  memory_mb: z.number().int().min(MIN_MEMORY_MB, MEMORY_FLOOR_REASON).default(DEFAULT_MEMORY_MB),
  /** auto: bubblewrap when it works, and LLM-written code never without it; bwrap: required; none: opt out.
   * (true/false from older files mean auto/none.) */
  sandbox: z.union([z.enum(SANDBOX_MODES), z.boolean().transform((b): SandboxMode => (b ? "auto" : "none"))]).default("auto"),
});
export type CampaignConfig = z.infer<typeof CampaignConfig>;

/** Flags of `archlab run` that override the file. */
export interface RunFlags {
  budget?: number;
  until?: string;
  maxHours?: number;
  archive?: string;
  parallel?: number;
  devices?: string;
  preset?: ProxyPreset;
  /** Use LLM agents with this model (an `llm:` section with defaults when the file has none). */
  llmModel?: string;
  /** budget.llm_dollars */
  maxDollars?: number;
  /** confirm.top (0: no confirmation) and confirm.seeds */
  confirmTop?: number;
  confirmSeeds?: number;
  sandbox?: SandboxMode;
}

export function loadCampaign(file: string | undefined, flags: RunFlags): CampaignConfig {
  let raw: Record<string, unknown> = {};
  if (file !== undefined) {
    if (!fs.existsSync(file)) throw new UserError(`no such campaign file: ${file}`);
    let parsed: unknown;
    try {
      parsed = parseYaml(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new UserError(`campaign file ${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
      throw new UserError(`campaign file ${file} must be a YAML mapping`);
    }
    raw = (parsed ?? {}) as Record<string, unknown>;
  }
  const config = validate(raw, file ?? "command line");
  const budget = { ...config.budget };
  if (flags.budget !== undefined) budget.experiments = flags.budget;
  if (flags.maxHours !== undefined) budget.hours = flags.maxHours;
  if (flags.maxDollars !== undefined) budget.llm_dollars = flags.maxDollars;
  const confirm = {
    top: flags.confirmTop ?? config.confirm.top,
    seeds: flags.confirmSeeds ?? config.confirm.seeds,
  };
  if (flags.preset && !config.stages.some((r) => r.stage === "proxy")) {
    throw new UserError(`${file ?? "command line"}: --preset sets the proxy rung's preset, and this ladder has no proxy rung`);
  }
  const stages = flags.preset ? config.stages.map((r) => (r.stage === "proxy" ? { ...r, preset: flags.preset } : r)) : config.stages;
  const final = validate({
    ...config,
    budget,
    stages,
    confirm,
    ...(flags.until !== undefined && { until: flags.until }),
    ...(flags.archive !== undefined && { archive: flags.archive }),
    ...(flags.parallel !== undefined && { parallel: flags.parallel }),
    ...(flags.devices !== undefined && { devices: flags.devices }),
    ...(flags.sandbox !== undefined && { sandbox: flags.sandbox }),
    ...(flags.llmModel !== undefined && { llm: { ...config.llm, model: flags.llmModel } }),
  }, file ?? "command line");
  if (final.budget.llm_dollars !== null && final.llm === null) {
    throw new UserError(`${file ?? "command line"}: a dollar budget (--max-dollars, budget.llm_dollars) needs an llm: section or --llm-model; the offline proposer makes no LLM calls`);
  }
  return final;
}

function validate(raw: unknown, where: string): CampaignConfig {
  const parsed = CampaignConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // A rung is named by its name (or stage), not its index: stages.proxy.preset, in either form of `stages:`.
  const named = issue.path[0] === "stages" && typeof issue.path[1] === "number"
    ? ["stages", rungLabel((raw as Record<string, unknown> | null)?.stages, issue.path[1]), ...issue.path.slice(2)] : issue.path;
  const keyPath = named.join(".");
  if (issue.code === "invalid_union" && named[0] === "stages" && named.length === 3 && named[2] === "stage") {
    const stage = (rungAt((raw as Record<string, unknown> | null)?.stages, issue.path[1] as number) as { stage?: unknown } | undefined)?.stage;
    throw new UserError(`${where}: stages.${String(named[1])}: unknown stage ${JSON.stringify(stage ?? null)} (stages: ${RUNG_STAGES.join(", ")})`);
  }
  if (issue.code === "unrecognized_keys") {
    const key = [keyPath, issue.keys[0]].filter(Boolean).join(".");
    throw new UserError(`${where}: unknown key "${key}"`);
  }
  throw new UserError(`${where}: ${keyPath || "campaign"}: ${issue.message}`);
}

/** GPU indices for the slots, or CPU slots: how many experiments run at once and where. */
export function slotsOf(config: CampaignConfig): (string | undefined)[] {
  if (config.devices === "auto") throw new Error("devices: auto must be resolved (runner/devices.ts) before slots are made");
  if (config.devices === "cpu") return Array.from({ length: config.parallel }, () => undefined);
  return config.devices.split(",").map((d) => d.split(":")[1]!);
}

/** The next wall-clock moment at HH:MM after `now` (tomorrow when it has passed today). */
export function untilDeadline(hhmm: string, now: Date): Date {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  const at = new Date(now);
  at.setHours(h, m, 0, 0);
  if (at <= now) at.setDate(at.getDate() + 1);
  return at;
}
