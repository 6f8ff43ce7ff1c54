/**
 * `--devices auto` (DESIGN §8, the local GPU pool): the GPUs nvidia-smi lists, one slot per GPU
 * (`cuda:0,cuda:1,...`; each child sees only its own through CUDA_VISIBLE_DEVICES). No nvidia-smi, or no GPU
 * listed: CPU, said in one line.
 */
import { execa } from "execa";

export interface Gpu {
  index: number;
  name: string;
  memoryMb: number;
}

/** `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits` */
export function parseNvidiaSmi(csv: string): Gpu[] {
  return csv.split("\n").map((l) => l.trim()).filter(Boolean).flatMap((line) => {
    const [index, name, memory] = line.split(",").map((s) => s.trim());
    const gpu = { index: Number(index), name: name ?? "", memoryMb: Number(memory) };
    return Number.isInteger(gpu.index) && Number.isFinite(gpu.memoryMb) ? [gpu] : [];
  });
}

/** The GPUs here, or why there are none. */
export async function detectGpus(): Promise<{ gpus: Gpu[]; why: string | null }> {
  const out = await execa("nvidia-smi", ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"], { reject: false, timeout: 30_000 });
  if (out.exitCode === undefined) return { gpus: [], why: "no nvidia-smi on PATH" };
  if (out.exitCode !== 0) return { gpus: [], why: `nvidia-smi failed: ${String(out.stderr || out.stdout).trim().split("\n")[0]}` };
  const gpus = parseNvidiaSmi(String(out.stdout));
  return { gpus, why: gpus.length ? null : "nvidia-smi lists no GPU" };
}

/** "auto" made concrete: cuda:0,...; or cpu with the reason passed to `say`. */
export async function resolveDevices(devices: string, say: (line: string) => void): Promise<string> {
  if (devices !== "auto") return devices;
  const { gpus, why } = await detectGpus();
  if (!gpus.length) {
    say(`archlab: --devices auto: ${why}; running on CPU`);
    return "cpu";
  }
  say(`archlab: --devices auto: ${gpus.map((g) => `cuda:${g.index} (${g.name}, ${Math.round(g.memoryMb / 1024)} GiB)`).join(", ")}`);
  return gpus.map((g) => `cuda:${g.index}`).join(",");
}
