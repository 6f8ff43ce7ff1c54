// Every generated layer must be real: it compiles, constructs, runs forward and backward through the
// primitives, returns [B, L, D], and is causal. Checked in one real Python process over many genomes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { genomeKey, SEED_GENOMES, type Genome } from "../contracts/genome.ts";
import { randomGenome } from "../researcher/operators.ts";
import { seededRng } from "../researcher/rng.ts";
import { EXPERIMENTS_DIR } from "../paths.ts";
import { findPython } from "../runner/python.ts";
import { generateLayer } from "./codegen.ts";

const CHECK = `
import importlib.util, json, sys, torch
torch.set_num_threads(1)  # tiny tensors: one thread is fastest, and the machine is shared
sys.path.insert(0, ".")
out = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("candidate", path)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    torch.manual_seed(0)
    layer = mod.DeltaNet(hidden_size=32, num_heads=4, layer_idx=0)
    x = torch.randn(2, 37, 32, dtype=torch.float64, requires_grad=True)
    layer = layer.double()
    y = layer(x)[0]
    y.sum().backward()
    x2 = x.detach().clone(); x2[:, 20] += 1.0
    y2 = layer(x2)[0]
    leak = (y2[:, :20] - y.detach()[:, :20]).abs().max().item()
    out[path] = {"shape": list(y.shape), "finite": bool(torch.isfinite(y).all() and torch.isfinite(x.grad).all()), "leak": leak}
print(json.dumps(out))
`;

// The generated layer and a baseline file, built from the same seed: the same parameters in the same order, and
// the same outputs and input gradients on the same input.
const SAME = `
import json, sys, torch
from harness.loader import load_layer_class
torch.set_num_threads(1)
runs = []
for path, cls in ((sys.argv[1], "DeltaNet"), (sys.argv[2], sys.argv[3])):
    torch.manual_seed(0)
    layer = load_layer_class(path, cls)(hidden_size=64, num_heads=4, layer_idx=0)
    torch.manual_seed(1)
    x = torch.randn(2, 48, 64, requires_grad=True)
    y = layer(x)
    y = y[0] if isinstance(y, tuple) else y
    y.square().sum().backward()
    runs.append(([list(p.shape) for p in layer.parameters()], y.detach(), x.grad))
(pa, ya, ga), (pb, yb, gb) = runs
print(json.dumps({"params": pa == pb, "n": len(pa), "out": (ya - yb).abs().max().item(), "grad": (ga - gb).abs().max().item()}))
`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("generateLayer", () => {
  it("reproduces the DeltaNet baseline (experiments/layers/delta_net.py) exactly on CPU from its seed genome", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-codegen-"));
    dirs.push(dir);
    const file = path.join(dir, "delta_net.py");
    fs.writeFileSync(file, generateLayer(SEED_GENOMES.delta_net!, "the seed"));
    const baseline = path.join(EXPERIMENTS_DIR, "layers", "delta_net.py");
    const run = await execa(findPython(), ["-c", SAME, file, baseline, "DeltaNet"], { cwd: EXPERIMENTS_DIR, env: { PYTHONPATH: EXPERIMENTS_DIR } });
    expect(JSON.parse(run.stdout)).toEqual({ params: true, n: 9, out: 0, grad: 0 });
  });


  it("is deterministic and names its genome", () => {
    const g = SEED_GENOMES.delta_net!;
    expect(generateLayer(g)).toBe(generateLayer({ ...g }));
    expect(generateLayer(g)).toContain(genomeKey(g));
    expect(generateLayer(g)).toContain("from archlab_ops import");
  });

  it("produces working, causal layers for every seed and 15 random genomes", async () => {
    const rng = seededRng(42);
    const genomes: Genome[] = [...Object.values(SEED_GENOMES), ...Array.from({ length: 15 }, () => randomGenome(rng))];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-codegen-"));
    dirs.push(dir);
    const files = genomes.map((g, i) => {
      const file = path.join(dir, `g${i}.py`);
      fs.writeFileSync(file, generateLayer(g, "A motivation with \"\"\"quotes\"\"\" that must not break the docstring."));
      return file;
    });
    const run = await execa(findPython(), ["-c", CHECK, ...files], { cwd: EXPERIMENTS_DIR, env: { PYTHONPATH: EXPERIMENTS_DIR } });
    const results = JSON.parse(run.stdout) as Record<string, { shape: number[]; finite: boolean; leak: number }>;
    for (const file of files) {
      expect(results[file], file).toEqual({ shape: [2, 37, 32], finite: true, leak: expect.any(Number) });
      expect(results[file]!.leak, file).toBeLessThan(1e-9);
    }
  });
});
