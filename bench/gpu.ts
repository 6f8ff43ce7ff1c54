// `npm run bench:gpu [-- --archive DIR] [bench.gpu's flags: --smoke --device cpu --json --steps N ...]`: the GPU
// bench (experiments/bench/gpu.py: SDPA attention, DeltaNet and Gated DeltaNet on each backend) plus two
// generated candidates, measured in the same run on the same GPU: a campaign archive's two best finished
// candidates (confirmed better first) with `--archive DIR`, else two one-gene mutants of DeltaNet drawn as the
// offline proposer draws them, through codegen. Their rows run on the backend a campaign's run would pick.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { EXPERIMENTS_DIR } from "../src/paths.ts";
import { findPython } from "../src/runner/python.ts";
import { archiveLayers, mutantLayers } from "./fidelity.ts";

export const GPU_BENCH_CANDIDATES = 2;

export async function gpuBenchCandidates(archive: string | undefined, dir: string): Promise<{ name: string; path: string; className: string }[]> {
  const layers = archive ? await archiveLayers(archive, GPU_BENCH_CANDIDATES) : mutantLayers(GPU_BENCH_CANDIDATES, dir);
  // bench.gpu labels a row by its file name: give each candidate a file named after it.
  return layers.map((l) => {
    const file = path.join(dir, `${l.name}.py`);
    if (path.resolve(l.path) !== path.resolve(file)) fs.copyFileSync(l.path, file);
    return { name: l.name, path: file, className: l.className };
  });
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf("--archive");
  const archive = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && (!archive || !fs.existsSync(archive))) {
    process.stderr.write(`bench:gpu: --archive needs an archive folder${archive ? `; ${archive} does not exist` : ""}\n`);
    return 2;
  }
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-gpu-"));
  try {
    const candidates = await gpuBenchCandidates(archive, dir);
    for (const c of candidates) process.stderr.write(`candidate ${c.name}: ${c.path}\n`);
    const args = ["-m", "bench.gpu", ...rest, ...candidates.flatMap((c) => ["--candidate", `${c.path}:${c.className}`])];
    const run = await execa(findPython(), args, { cwd: EXPERIMENTS_DIR, stdio: "inherit", reject: false });
    return run.exitCode ?? 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`bench:gpu: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
