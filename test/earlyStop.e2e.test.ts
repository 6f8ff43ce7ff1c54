// Early stop end to end through the real CLI, harness and evaluator at the tiny LM preset: a deliberately bad
// layer (DeltaNet whose mixing output is drowned in a fixed per-position noise table: causal, deterministic, a
// real layer file in a temp dir) trails the cached baseline's held-out curve and is stopped, recorded as
// stopped_early with its evidence; a good layer (Gated DeltaNet) trains to the end against the same cache.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult } from "../src/contracts/result.ts";
import { lossAt } from "../src/ladder/policy.ts";
import { PROJECT_ROOT } from "../src/paths.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const LAYERS = path.join(PROJECT_ROOT, "experiments", "layers");
let tmp: string;

const archlab = (args: string[]) => execa("node", [CLI, ...args], { reject: false, cwd: tmp });
const evaluate = (layer: string, out: string, ...extra: string[]) => archlab(["evaluate", layer, "--stage", "lm", "--preset", "tiny",
  "--data", path.join(tmp, "tok"), "--baseline-cache", path.join(tmp, "baselines"), "--out", path.join(tmp, out), ...extra]);
const resultOf = (out: string) => RunResult.parse(JSON.parse(fs.readFileSync(path.join(tmp, out, "result.json"), "utf8")));

const BAD = `

class _Mixing(DeltaNet):
    pass


class DeltaNet(_Mixing):  # deliberately bad: the mixing output drowned in a fixed table of noise per position
    def forward(self, hidden_states, *args, **kwargs):
        out = super().forward(hidden_states, *args, **kwargs)
        o = out[0] if isinstance(out, tuple) else out
        if not hasattr(self, "_noise"):
            self._noise = 100.0 * torch.randn(4096, o.shape[-1], generator=torch.Generator().manual_seed(0))
        return o + self._noise[: o.shape[1]].to(o)
`;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-early-"));
  fs.mkdirSync(path.join(tmp, "text"));
  fs.writeFileSync(path.join(tmp, "text", "a.txt"), "The jury said it did find that many of the voters were registered. ".repeat(300));
  fs.writeFileSync(path.join(tmp, "text", "b.txt"), "Held-out text from another file, for validation only. ".repeat(60));
  fs.writeFileSync(path.join(tmp, "bad.py"), fs.readFileSync(path.join(LAYERS, "delta_net.py"), "utf8") + BAD);
  const run = await archlab(["data", "prepare", path.join(tmp, "text"), "--out", path.join(tmp, "tok"), "--tokenizer", "byte", "--val-split", "0.1"]);
  expect(run.exitCode, run.stderr).toBe(0);
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("archlab evaluate --early-stop", () => {
  it("stops a layer trailing the baseline's held-out curve, with the evidence; a good layer runs to the end", async () => {
    const bad = await evaluate(path.join(tmp, "bad.py"), "bad", "--early-stop", "0.02");
    expect(bad.exitCode, bad.stderr).toBe(0); // a verdict, not a failure
    expect(bad.stderr).toContain("baseline delta_net.py: step 20/20"); // the baseline trained first, then cached
    const r = resultOf("bad");
    expect(r.status).toBe("stopped_early");
    expect(r.error).toBeNull();
    const e = r.early_stop!;
    expect(e.total_steps).toBe(20);
    expect(e.step).toBeLessThan(20);
    expect(e.steps_saved).toBe(20 - e.step);
    expect(e.seconds_saved).toBeGreaterThan(0);
    expect(e.rule).toEqual({ margin: 0.02, warmup_fraction: 0.25, window: 5 });
    expect(e.loss).toBeGreaterThan(e.baseline_loss * 1.02);
    // the evidence is the evaluator's monitor curve (recorded), against the cached baseline's at the same step
    expect(r.monitor!.at(-1)!.step).toBe(e.step);
    expect(e.loss).toBeCloseTo(r.monitor!.reduce((s, p) => s + p.loss, 0) / r.monitor!.length, 5);
    const cache = fs.readdirSync(path.join(tmp, "baselines")).filter((f) => f.endsWith(".json"));
    expect(cache).toHaveLength(1);
    const baseline = RunResult.parse(JSON.parse(fs.readFileSync(path.join(tmp, "baselines", cache[0]!), "utf8")).results[0]);
    expect(baseline.monitor!.map((p) => p.step)).toEqual([5, 10, 15, 20]);
    expect(e.baseline_loss).toBeCloseTo(lossAt(baseline.monitor!, e.step)!, 5);
    expect(bad.stdout).toMatch(new RegExp(`stopped early at step ${e.step}/20: held-out loss .* vs the baseline's .* margin 2%\\); saved ${e.steps_saved} steps`));
    expect(r.metrics).toEqual({}); // never evaluated: no score to rank
    expect(fs.existsSync(path.join(tmp, "bad", "work", "checkpoint.pt"))).toBe(false);

    const good = await evaluate(path.join(LAYERS, "gated_delta_net.py"), "good", "--early-stop", "0.02");
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stderr).not.toContain("baseline delta_net.py: step"); // from the cache
    const g = resultOf("good");
    expect(g.status).toBe("ok");
    expect(g.early_stop ?? null).toBeNull();
    expect(g.monitor!.map((p) => p.step)).toEqual([5, 10, 15, 20]);
    expect(good.stdout).toMatch(/delta_net\.py \(DeltaNet, seeds 0 from the cache\)/);
  }, 240_000);

  it("needs a baseline to compare with, said in one line", async () => {
    const run = await archlab(["evaluate", path.join(tmp, "bad.py"), "--stage", "lm", "--preset", "tiny", "--no-baseline", "--early-stop"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe("archlab: --early-stop compares with the baseline's curve: it needs the proxy or lm stage and a baseline (not --no-baseline)");
    const margin = await archlab(["evaluate", path.join(tmp, "bad.py"), "--stage", "lm", "--data", path.join(tmp, "tok"), "--early-stop", "-1"]);
    expect(margin.exitCode).toBe(2);
    expect(margin.stderr).toBe('archlab: --early-stop must be a positive number, not "-1"');
  }, 60_000);
});
