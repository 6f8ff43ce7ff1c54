/**
 * The run spec (DESIGN §3): what one harness run does. The orchestrator writes it, `python -m harness.run`
 * reads it (experiments/harness/spec.py mirrors these keys and rejects unknown ones).
 */
import { z } from "zod";

export const RUN_SPEC_SCHEMA = "archlab.runspec/1";

export const ModelSpec = z.strictObject({
  num_layers: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_heads: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  mlp_ratio: z.number().positive(),
});

export const TrainSpec = z.strictObject({
  steps: z.number().int().positive(),
  batch_size: z.number().int().positive(),
  seq_len: z.number().int().positive(),
  lr: z.number().positive(),
  min_lr_ratio: z.number().min(0).max(1),
  warmup_steps: z.number().int().nonnegative(),
  weight_decay: z.number().nonnegative(),
  grad_clip: z.number().positive(),
  eval_every: z.number().int().nonnegative(),
  log_every: z.number().int().positive(),
});

export const DataSpec = z.strictObject({
  kind: z.enum(["random", "tasks", "corpus"]),
  tasks: z.array(z.looseObject({ name: z.string() })),
  corpus: z.string().nullable(),
  eval_batches: z.number().int().positive(),
});

export const ProbeSpec = z.looseObject({
  enabled: z.boolean(),
  max_exponent: z.number().positive(),
  max_params: z.number().int().positive().nullable(),
});

export const RunSpec = z.strictObject({
  schema: z.literal(RUN_SPEC_SCHEMA),
  stage: z.string(),
  layer: z.strictObject({
    path: z.string(),
    class_name: z.string(),
    kwargs: z.record(z.string(), z.unknown()),
  }),
  result_path: z.string(),
  model: ModelSpec,
  train: TrainSpec.nullable(),
  data: DataSpec,
  probe: ProbeSpec,
  device: z.string(),
  dtype: z.enum(["float32", "bfloat16", "auto"]),
  seed: z.number().int().nonnegative(),
  timeout_s: z.number().positive(),
  memory_mb: z.number().int().positive().nullable(),
  threads: z.number().int().positive().nullable(),
  compile: z.boolean(),
  ops_backend: z.enum(["auto", "fla", "chunk", "naive"]),
});
export type RunSpec = z.infer<typeof RunSpec>;
