/**
 * Stage presets (DESIGN §4): each stage is a run spec with a model size, data, steps and limits. A campaign
 * file may override them later; `archlab evaluate --stage` picks one by name.
 */
import path from "node:path";
import { RUN_SPEC_SCHEMA, type RunSpec } from "../contracts/runSpec.ts";
import { UserError } from "../errors.ts";

export const STAGES = ["smoke", "probe"] as const;
export type StageName = (typeof STAGES)[number];

export interface StageRequest {
  stage: string;
  layerPath: string;
  className: string;
  runDir: string;
  layerKwargs?: Record<string, unknown>;
  device?: string;
  seed?: number;
  timeoutS?: number;
  memoryMb?: number | null;
  opsBackend?: RunSpec["ops_backend"];
}

const TINY_MODEL = { num_layers: 2, hidden_size: 64, num_heads: 4, vocab_size: 256, mlp_ratio: 4 };

const RANDOM_DATA: RunSpec["data"] = { kind: "random", tasks: [], corpus: null, eval_batches: 2 };

const NO_PROBES: RunSpec["probe"] = { enabled: false, max_exponent: 1.3, max_params: null };

type StagePreset = Pick<RunSpec, "model" | "train" | "data" | "probe" | "timeout_s">;

function preset(stage: string): StagePreset {
  switch (stage) {
    case "smoke":
      return {
        model: TINY_MODEL,
        train: {
          steps: 20, batch_size: 4, seq_len: 64, lr: 1e-3, min_lr_ratio: 0.1, warmup_steps: 2,
          weight_decay: 0.1, grad_clip: 1.0, eval_every: 0, log_every: 1,
        },
        data: RANDOM_DATA,
        probe: NO_PROBES,
        timeout_s: 300,
      };
    case "probe":
      return { model: TINY_MODEL, train: null, data: RANDOM_DATA, probe: { ...NO_PROBES, enabled: true }, timeout_s: 120 };
    default:
      throw new UserError(`unknown stage "${stage}" (stages: ${STAGES.join(", ")})`);
  }
}

export function stageSpec(req: StageRequest): RunSpec {
  const base = preset(req.stage);
  return {
    schema: RUN_SPEC_SCHEMA,
    stage: req.stage,
    layer: { path: path.resolve(req.layerPath), class_name: req.className, kwargs: req.layerKwargs ?? {} },
    result_path: path.join(path.resolve(req.runDir), "result.json"),
    ...base,
    timeout_s: req.timeoutS ?? base.timeout_s,
    device: req.device ?? "cpu",
    dtype: "auto",
    seed: req.seed ?? 0,
    memory_mb: req.memoryMb === undefined ? 8192 : req.memoryMb,
    threads: null,
    compile: (req.device ?? "cpu").startsWith("cuda"),
    ops_backend: req.opsBackend ?? "auto",
  };
}
