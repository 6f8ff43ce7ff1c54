/**
 * The run spec (DESIGN §3): what one harness run does. The orchestrator writes it, `python -m harness.run`
 * reads it. Defined once here: `npm run schema` exports it (defaults included) to
 * experiments/harness/runspec.schema.json, from which experiments/harness/spec.py takes its defaults, and
 * experiments/tests/test_spec_schema.py fails when spec.py's fields differ from it.
 */
import { z } from "zod";

export const RUN_SPEC_SCHEMA = "archlab.runspec/1";

/** Probe-stage complexity limit: reject a layer whose cost grows faster than L^this (harness/probes/complexity.py). */
export const MAX_EXPONENT = 1.3;

/**
 * The smallest memory limit a run may be given (MB above the harness's own size at start): measured, the harness
 * imports a layer at 256 and fails at 64 (MemoryError in the imports, before any candidate code runs).
 */
export const MIN_MEMORY_MB = 256;
export const MEMORY_FLOOR_REASON = `at least ${MIN_MEMORY_MB} MB (the harness needs that much to import a layer)`;

export const ModelSpec = z.strictObject({
  num_layers: z.number().int().positive().default(2),
  hidden_size: z.number().int().positive().default(64),
  num_heads: z.number().int().positive().default(4),
  vocab_size: z.number().int().positive().default(256),
  mlp_ratio: z.number().positive().default(4),
});

export const TrainSpec = z.strictObject({
  steps: z.number().int().positive().default(20),
  batch_size: z.number().int().positive().default(4),
  seq_len: z.number().int().positive().default(64),
  lr: z.number().positive().default(1e-3),
  min_lr_ratio: z.number().min(0).max(1).default(0.1),
  warmup_steps: z.number().int().nonnegative().default(2),
  weight_decay: z.number().nonnegative().default(0.1),
  grad_clip: z.number().positive().default(1),
  /** A progress line every N steps. */
  log_every: z.number().int().positive().default(1),
  /** Split each step's batch into this many micro-batches (same gradient, less memory). */
  grad_accum: z.number().int().positive().default(1),
  /** Save model, optimizer and curve to checkpoint_path every N steps (null: never). */
  checkpoint_every: z.number().int().positive().nullable().default(null),
});

export const DataSpec = z.strictObject({
  kind: z.enum(["random", "tasks", "corpus"]).default("random"),
  /** [{name, ...task settings}] for kind=tasks. */
  tasks: z.array(z.looseObject({ name: z.string() })).default([]),
  /** A text file or folder for kind=corpus (and the byte-level LM task). */
  corpus: z.string().nullable().default(null),
  eval_batches: z.number().int().positive().default(4),
  /**
   * The held-out batches are drawn from this seed, not the run's: every run seed is scored on the same held-out
   * data (a fixed held-out set, as a benchmark's), so the spread over seeds is training's alone and a candidate's
   * difference from the baseline is not partly a difference of evaluation windows. Training data follows the run
   * seed. (Seed 0 scores the windows it always did.)
   */
  eval_seed: z.number().int().nonnegative().default(0),
});

export const ProbeSpec = z.strictObject({
  enabled: z.boolean().default(false),
  max_exponent: z.number().positive().default(MAX_EXPONENT),
  /** The most parameters ONE mixer layer may have at model.* size; null: no budget. */
  max_params: z.number().int().positive().nullable().default(null),
  /** Sequence lengths of the complexity probe. */
  lengths: z.array(z.number().int().positive()).min(2).default([256, 512, 1024, 2048, 4096]),
  /** Random inputs for the causality probe. */
  seeds: z.number().int().positive().default(2),
});

export const RunSpec = z.strictObject({
  schema: z.literal(RUN_SPEC_SCHEMA).default(RUN_SPEC_SCHEMA),
  stage: z.string().default("smoke"),
  layer: z.strictObject({
    path: z.string(),
    class_name: z.string().default("DeltaNet"),
    kwargs: z.record(z.string(), z.unknown()).default({}),
  }),
  result_path: z.string().default("result.json"),
  /** Training checkpoint: resumed from when it exists, rewritten every train.checkpoint_every steps. */
  checkpoint_path: z.string().nullable().default(null),
  model: ModelSpec.prefault({}),
  train: TrainSpec.nullable().prefault({}),
  data: DataSpec.prefault({}),
  probe: ProbeSpec.prefault({}),
  device: z.string().default("cpu"),
  /** float32 | bfloat16 (autocast) | auto (float32, bf16 autocast if the layer needs it). */
  dtype: z.enum(["float32", "bfloat16", "auto"]).default("float32"),
  seed: z.number().int().nonnegative().default(0),
  timeout_s: z.number().positive().default(600),
  memory_mb: z.number().int().positive().nullable().default(null),
  threads: z.number().int().positive().nullable().default(null),
  /** Honour the candidate's torch.compile decorators (CUDA only). */
  compile: z.boolean().default(false),
  /** Forwarded to archlab_ops. */
  ops_backend: z.enum(["auto", "fla", "chunk", "naive"]).default("auto"),
});
export type RunSpec = z.infer<typeof RunSpec>;
