// The GPU pool's memory policy (table), its measured need from an archive's result files, and `--devices auto`
// with a fake nvidia-smi on PATH (no GPU on the machines these tests run on) through the real CLI.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../paths.ts";
import { resolveDevices } from "./devices.ts";
import { CUDA_CONTEXT_MB, measuredPeaks, NEED_FACTOR, planSlots, stageNeedMb } from "./gpuPool.ts";

const H200 = 143_771;

/** A directory holding an `nvidia-smi` that prints `csv` (what the real one prints for the query archlab makes). */
function fakeNvidiaSmi(csv: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-fake-smi-"));
  fs.writeFileSync(path.join(dir, "nvidia-smi"), `#!/bin/sh\ncase "$*" in *memory.free*) printf '${csv}' ;; *) exit 9 ;; esac\n`, { mode: 0o755 });
  return dir;
}

describe("GPU pool memory policy", () => {
  it.each([
    // gpus (index, free MiB), need, max per GPU -> slots, skipped
    { gpus: [[0, H200], [1, H200]], need: null, max: 4, slots: [0, 1], skipped: [] },
    { gpus: [[0, H200], [1, H200]], need: 40_000, max: 4, slots: [0, 0, 0, 1, 1, 1], skipped: [] },
    { gpus: [[0, H200]], need: 10_000, max: 2, slots: [0, 0], skipped: [] },
    { gpus: [[0, 81_000], [1, 20_000]], need: 30_000, max: 4, slots: [0, 0], skipped: [1] },
    { gpus: [[0, 5_000]], need: 30_000, max: 4, slots: [], skipped: [0] },
    { gpus: [[0, 30_000]], need: 30_000, max: 1, slots: [0], skipped: [] },
  ])("$gpus need $need max $max -> $slots", ({ gpus, need, max, slots, skipped }) => {
    const plan = planSlots(gpus.map(([index, freeMb]) => ({ index: index!, freeMb: freeMb! })), need, max);
    expect(plan.slots).toEqual(slots);
    expect(plan.skipped.map((g) => g.index)).toEqual(skipped);
  });

  it("a stage's need is its largest measured peak with headroom; unmeasured is null", () => {
    expect(stageNeedMb([])).toBeNull();
    expect(stageNeedMb([1000, 4000, 2000])).toBe(Math.ceil(4000 * NEED_FACTOR + CUDA_CONTEXT_MB));
    expect(stageNeedMb([Number.NaN])).toBeNull();
  });

  it("reads the peaks the archive's runs and baseline runs recorded, for the asked stages only", () => {
    const archive = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-pool-"));
    const put = (rel: string, body: unknown) => {
      fs.mkdirSync(path.join(archive, path.dirname(rel)), { recursive: true });
      fs.writeFileSync(path.join(archive, rel), typeof body === "string" ? body : JSON.stringify(body));
    };
    put("runs/e000001/proxy/result.json", { stage: "proxy", env: { gpu_peak_memory_mb: 1200.5 } });
    put("runs/e000001/probe/result.json", { stage: "probe", env: { gpu_peak_memory_mb: 9999 } });
    put("runs/e000002/proxy/seed1/result.json", { stage: "proxy", env: { gpu_peak_memory_mb: 1500 } });
    put("runs/e000003/proxy/result.json", { stage: "proxy", env: { device: "cpu" } }); // a CPU run: no GPU peak
    put("runs/e000004/proxy/result.json", "{half");
    put("baselines/runs/seed0/result.json", { stage: "proxy", env: { gpu_peak_memory_mb: 1100 } });
    expect(measuredPeaks(archive, ["proxy"]).sort()).toEqual([1100, 1200.5, 1500]);
    expect(measuredPeaks(path.join(archive, "none"), ["proxy"])).toEqual([]);
  });

  it("--devices auto with nvidia-smi's free memory: N slots where the need allows, none on a GPU short of it", async () => {
    const bin = fakeNvidiaSmi("0, NVIDIA H200, 143771, 81000\\n1, NVIDIA H200, 143771, 20000\\n");
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    const lines: string[] = [];
    try {
      expect(await resolveDevices("auto", (l) => lines.push(l), { needMb: 30_000, maxPerGpu: 4 })).toBe("cuda:0,cuda:0");
      expect(lines).toEqual(["archlab: --devices auto: cuda:0 (NVIDIA H200, 79 of 140 GiB free: 2 slots), cuda:1 (NVIDIA H200, 20 of 140 GiB free: 0 slots); a run needs 30000 MiB (measured)"]);
      expect(await resolveDevices("auto", () => {})).toBe("cuda:0,cuda:1"); // unmeasured: one per GPU
      await expect(resolveDevices("auto", () => {}, { needMb: 90_000, maxPerGpu: 4 })).rejects.toThrow(/^--devices auto: no GPU has the 90000 MiB free a run needs \(cuda:0 81000 MiB free, cuda:1 20000 MiB free\)$/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it("archlab run --devices auto sizes the pool by the archive's measured runs (then, with no CUDA here, one line)", async () => {
    const bin = fakeNvidiaSmi("0, NVIDIA H200, 143771, 143000\\n");
    const archive = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-pool-run-"));
    fs.mkdirSync(path.join(archive, "baselines", "runs", "seed0"), { recursive: true });
    fs.writeFileSync(path.join(archive, "baselines", "runs", "seed0", "result.json"), JSON.stringify({ stage: "proxy", env: { gpu_peak_memory_mb: 40_000 } }));
    const run = await execa("node", [path.join(PROJECT_ROOT, "bin", "archlab.js"), "run", "--archive", archive, "--devices", "auto", "--parallel", "8", "--budget", "1"],
      { reject: false, env: { PATH: `${bin}:${process.env.PATH}` } });
    const need = Math.ceil(40_000 * NEED_FACTOR + CUDA_CONTEXT_MB); // 50512: two fit in 143000 MiB
    expect(run.stderr).toContain(`cuda:0 (NVIDIA H200, 140 of 140 GiB free: 2 slots); a run needs ${need} MiB (measured)`);
    // This machine has no GPU: the torch check refuses before anything runs (a real GPU host goes on).
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split("\n").at(-1)).toMatch(/^archlab: cuda:0 requested, but no CUDA device here/);
  }, 120_000);
});
