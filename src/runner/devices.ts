/**
 * `--devices auto` (DESIGN §8, the local GPU pool): the GPUs nvidia-smi lists, one slot per GPU
 * (`cuda:0,cuda:1,...`; each child sees only its own through CUDA_VISIBLE_DEVICES), or, given the stages' measured
 * memory need, as many per GPU as its free memory holds (up to --parallel) and none on a GPU short of it (gpuPool.ts). No nvidia-smi, or no GPU
 * listed: CPU, said in one line. A device asked for by name (`cuda:N`) is checked against the harness's own torch
 * (the interpreter that will train) before a campaign or an evaluation starts: one line (exit 2) when it is not
 * there, never a candidate's crash.
 */
import { execa } from "execa";
import { UserError } from "../errors.ts";
import { EXPERIMENTS_DIR } from "../paths.ts";
import { planSlots } from "./gpuPool.ts";
import { findPython } from "./python.ts";

export interface Gpu {
  index: number;
  name: string;
  memoryMb: number;
  /** Free now (memory.free); the total when nvidia-smi did not say. */
  freeMb: number;
}

const QUERY = "--query-gpu=index,name,memory.total,memory.free";

/** `nvidia-smi --query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits` */
export function parseNvidiaSmi(csv: string): Gpu[] {
  return csv.split("\n").map((l) => l.trim()).filter(Boolean).flatMap((line) => {
    const [index, name, memory, free] = line.split(",").map((s) => s.trim());
    const gpu = { index: Number(index), name: name ?? "", memoryMb: Number(memory), freeMb: Number(free ?? memory) };
    if (!Number.isFinite(gpu.freeMb)) gpu.freeMb = gpu.memoryMb;
    return Number.isInteger(gpu.index) && Number.isFinite(gpu.memoryMb) ? [gpu] : [];
  });
}

/** The GPUs here, or why there are none. */
export async function detectGpus(): Promise<{ gpus: Gpu[]; why: string | null }> {
  const out = await execa("nvidia-smi", [QUERY, "--format=csv,noheader,nounits"], { reject: false, timeout: 30_000 });
  if (out.exitCode === undefined) return { gpus: [], why: "no nvidia-smi on PATH" };
  if (out.exitCode !== 0) return { gpus: [], why: `nvidia-smi failed: ${String(out.stderr || out.stdout).trim().split("\n")[0]}` };
  const gpus = parseNvidiaSmi(String(out.stdout));
  return { gpus, why: gpus.length ? null : "nvidia-smi lists no GPU" };
}

/** What the pool knows of the runs it will hold: the MiB one needs on a GPU (null: unmeasured), and at most how many share one. */
export interface PoolNeed {
  needMb: number | null;
  maxPerGpu: number;
}

/** "auto" made concrete: cuda:0,...(a GPU repeated once per slot); or cpu with the reason passed to `say`. */
export async function resolveDevices(devices: string, say: (line: string) => void, pool: PoolNeed = { needMb: null, maxPerGpu: 1 }): Promise<string> {
  if (devices !== "auto") return devices;
  const { gpus, why } = await detectGpus();
  if (!gpus.length) {
    say(`archlab: --devices auto: ${why}; running on CPU`);
    return "cpu";
  }
  const plan = planSlots(gpus, pool.needMb, pool.maxPerGpu);
  const slotsOn = (g: Gpu) => plan.slots.filter((i) => i === g.index).length;
  const need = pool.needMb === null ? "memory need not measured yet: one slot per GPU" : `a run needs ${pool.needMb} MiB (measured)`;
  say(`archlab: --devices auto: ${gpus.map((g) => `cuda:${g.index} (${g.name}, ${Math.round(g.freeMb / 1024)} of ${Math.round(g.memoryMb / 1024)} GiB free: ${slotsOn(g)} slot${slotsOn(g) === 1 ? "" : "s"})`).join(", ")}; ${need}`);
  if (!plan.slots.length) {
    throw new UserError(`--devices auto: no GPU has the ${pool.needMb} MiB free a run needs (${gpus.map((g) => `cuda:${g.index} ${g.freeMb} MiB free`).join(", ")})`);
  }
  return plan.slots.map((i) => `cuda:${i}`).join(",");
}

/** How many CUDA devices the harness's torch sees, and why none when it sees none. */
export async function torchCudaDevices(): Promise<{ count: number; why: string }> {
  const python = findPython();
  const probe = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0, torch.version.cuda or 'none')";
  const run = await execa(python, ["-c", probe], { cwd: EXPERIMENTS_DIR, reject: false, timeout: 120_000 });
  if (run.exitCode !== 0) return { count: 0, why: `torch could not be imported: ${String(run.stderr).trim().split("\n").at(-1)}` };
  const [count, cuda] = String(run.stdout).trim().split(/\s+/);
  const n = Number(count);
  if (n > 0) return { count: n, why: "" };
  return { count: 0, why: cuda === "none" ? "this torch is a CPU-only build" : "torch finds no CUDA device (driver or CUDA_VISIBLE_DEVICES)" };
}

/**
 * Throws a UserError unless every GPU index in `gpus` exists. `gpus` holds indices ("0", "1"); undefined
 * entries are CPU slots and need nothing. `count` overrides the detection (tests pass a fake device list).
 */
export async function checkDevices(gpus: readonly (string | undefined)[], count?: () => Promise<number>): Promise<void> {
  const wanted = gpus.filter((g): g is string => g !== undefined);
  if (wanted.length === 0) return;
  const found = count ? { count: await count(), why: "no CUDA device" } : await torchCudaDevices();
  const missing = wanted.filter((g) => Number(g) >= found.count);
  if (missing.length === 0) return;
  const have = found.count === 0 ? `no CUDA device here (${found.why})` : `only ${found.count} CUDA device${found.count === 1 ? "" : "s"} here (cuda:0${found.count > 1 ? `..cuda:${found.count - 1}` : ""})`;
  throw new UserError(`cuda:${missing[0]} requested, but ${have}`);
}
