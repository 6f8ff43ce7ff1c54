/**
 * The local GPU pool's memory policy (DESIGN §8): N slots per GPU where the campaign's stages' measured memory
 * allows, and no slot on a GPU without the memory a stage needs. A stage's need is the peak GPU memory its
 * earlier runs recorded (result env.gpu_peak_memory_mb: torch's max_memory_reserved in the candidate process, so
 * candidate-reported; the baseline's runs are the reference layer's) with headroom; free memory per GPU comes from
 * nvidia-smi (devices.ts). Unmeasured (no GPU run yet): one slot per GPU. Pure functions, then the reading of the
 * archive's result files at the edge.
 */
import fs from "node:fs";
import path from "node:path";

/** Headroom over the measured peak: other layers of the same stage differ; the CUDA context is not in torch's count. */
export const NEED_FACTOR = 1.25;
export const CUDA_CONTEXT_MB = 512;

export interface GpuFree {
  index: number;
  freeMb: number;
}

/** MiB a run of this stage needs on a GPU, from its measured peaks; null when never measured. */
export function stageNeedMb(peaksMb: readonly number[]): number | null {
  const peak = peaksMb.filter((p) => Number.isFinite(p) && p >= 0).reduce((a, b) => Math.max(a, b), -1);
  return peak < 0 ? null : Math.ceil(peak * NEED_FACTOR + CUDA_CONTEXT_MB);
}

export interface PoolPlan {
  /** One GPU index per slot, e.g. [0, 0, 1]: two runs share GPU 0. */
  slots: number[];
  /** GPUs given no slot: less free memory than one run needs. */
  skipped: GpuFree[];
}

/** Slots per GPU: floor(free / need), at most `maxPerGpu`; one per GPU when the need is unknown. */
export function planSlots(gpus: readonly GpuFree[], needMb: number | null, maxPerGpu: number): PoolPlan {
  const slots: number[] = [];
  const skipped: GpuFree[] = [];
  for (const gpu of gpus) {
    const fit = needMb === null ? 1 : Math.min(maxPerGpu, Math.floor(gpu.freeMb / needMb));
    if (fit < 1) skipped.push(gpu);
    for (let i = 0; i < fit; i++) slots.push(gpu.index);
  }
  return { slots, skipped };
}

/** The measured GPU peaks of every recorded run of `stages` in the archive (its runs and its baseline runs). */
export function measuredPeaks(archiveDir: string, stages: readonly string[]): number[] {
  const peaks: number[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < 4) walk(file, depth + 1);
      else if (entry.name === "result.json") {
        try {
          const result = JSON.parse(fs.readFileSync(file, "utf8")) as { stage?: unknown; env?: { gpu_peak_memory_mb?: unknown } };
          const peak = result.env?.gpu_peak_memory_mb;
          if (typeof result.stage === "string" && stages.includes(result.stage) && typeof peak === "number") peaks.push(peak);
        } catch {
          // a half-written or foreign file: not a measurement
        }
      }
    }
  };
  walk(path.join(archiveDir, "runs"), 0);
  walk(path.join(archiveDir, "baselines"), 0);
  return peaks;
}
