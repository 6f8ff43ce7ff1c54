/**
 * Synthetic experiments of realistic size (two stages, probes, fitness, costs), for tests and the archive bench.
 * Deterministic in `n`.
 */
import type { Experiment } from "../contracts/experiment.ts";
import type { NewExperiment } from "./archive.ts";

export function syntheticExperiment(n: number, parentId: string | null, overrides: Partial<NewExperiment> = {}): NewExperiment {
  const loss = 2 + ((n * 7919) % 1000) / 1000;
  const at = new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
  const fitness: Experiment["fitness"] = {
    value: 1 + ((n * 104_729) % 10_000) / 10_000,
    inputs: { loss, baselineLoss: 2.5, benchmark: 0.4, baselineBenchmark: 0.38, judge: null },
    terms: { loss: 0.6, benchmark: 0.55 },
    formula: "asi-arch",
  };
  return {
    name: `candidate-${n}`,
    parentId,
    campaign: "c000001",
    proposer: parentId === null ? "seed" : "mutation",
    status: "done",
    genome: { feature_map: "elu1", update: "delta", short_conv: 4, output_gate: true, heads: 4, chunk: 64, n },
    genomeKey: `genome-${n}`,
    change: parentId === null ? null : { gene: "short_conv", from: 2, to: 4 },
    fingerprint: `fp-${n.toString(16).padStart(8, "0")}`,
    stages: {
      probe: {
        status: "ok", errorKind: null, message: null, metrics: { exponent: 1.02, params: 81_920 },
        probes: {
          forward: { passed: true }, causality: { passed: true, max_leak: 0 }, complexity: { passed: true, exponent: 1.02 },
          batch: { passed: true }, params: { passed: true }, finite: { passed: true },
        },
        fingerprint: `fp-${n.toString(16).padStart(8, "0")}`, params: 81_920, wallS: 3.2, deviceS: null, processS: 3.9, runDir: `runs/e${n}/probe`,
      },
      proxy: {
        status: "ok", errorKind: null, message: null,
        metrics: { loss, mqar: 0.81, selective_copy: 0.64, fuzzy_recall: 0.33, compression: 0.41, memorize: 0.92, lm_bpb: 1.71 },
        probes: null, fingerprint: null, params: 412_000, wallS: 94.5, deviceS: null, processS: 95.1, runDir: `runs/e${n}/proxy`,
      },
    },
    fitness,
    costs: { cpuSeconds: 97.7, gpuSeconds: 0, llmTokensIn: 0, llmTokensOut: 0, llmDollars: 0 },
    createdAt: at,
    transitions: [
      { status: "proposed", at }, { status: "implemented", at }, { status: "probing", at },
      { status: "training", at }, { status: "analysing", at }, { status: "done", at },
    ],
    ...overrides,
  };
}
