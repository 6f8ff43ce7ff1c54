// A rung's early_stop reaches its runs: the option carries the rung's rule and the cached baseline's monitor
// curve for the same spec and seed, and nothing when the rung has no rule or no baseline is cached yet.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Archive } from "../archive/archive.ts";
import { RESULT_SCHEMA, RunResult } from "../contracts/result.ts";
import { baselineDir, baselineKey, baselineSpecs, storeBaseline } from "./baseline.ts";
import { CampaignConfig } from "./config.ts";
import { earlyStopFor } from "./experiment.ts";
import { trainingRungs } from "./rungs.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-earlystop-for-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const monitor = [{ step: 5, loss: 4.9 }, { step: 10, loss: 4.7 }];
const result = (seed: number, withMonitor: boolean) => RunResult.parse({
  schema: RESULT_SCHEMA, stage: "proxy", status: "ok", error: null, probes: null, fingerprint: null, curve: [], metrics: {},
  params: null, tokens_per_s: null, wall_s: 1, device_s: null,
  env: { torch: "x", python: "x", device: "cpu", dtype: "float32", seed }, ...(withMonitor && { monitor }),
});

function setup(name: string, earlyStop: string) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(baselineDir(dir), { recursive: true });
  const config = CampaignConfig.parse({ archive: dir, stages: [{ stage: "probe" }, { stage: "proxy", preset: "tiny", ...(earlyStop && { early_stop: JSON.parse(earlyStop) }) }] });
  const rung = trainingRungs(config)[0]!;
  const ctx = { archive: { dir } as unknown as Archive, config, device: "cpu" };
  const store = (seed: number, withMonitor: boolean) => {
    const [spec] = baselineSpecs(dir, config, [seed], "cpu", rung);
    storeBaseline(baselineDir(dir), { key: baselineKey([spec!]), layer: "DeltaNet", results: [result(seed, withMonitor)] });
  };
  return { ctx, rung, store };
}

describe("earlyStopFor", () => {
  it("gives the rung's rule and the baseline's monitor curve of the same seed", () => {
    const { ctx, rung, store } = setup("on", '{"margin": 0.05}');
    expect(earlyStopFor(ctx, rung, 0)).toBeUndefined(); // no baseline yet: the first candidates are never stopped
    store(0, true);
    expect(earlyStopFor(ctx, rung, 0)).toEqual({ rule: { margin: 0.05, warmup_fraction: 0.25, window: 5 }, baseline: monitor });
    expect(earlyStopFor(ctx, rung, 1)).toBeUndefined(); // another seed's baseline is not this run's
  });

  it("gives nothing without a rule, or for a baseline without a monitor curve", () => {
    const off = setup("off", "");
    off.store(0, true);
    expect(earlyStopFor(off.ctx, off.rung, 0)).toBeUndefined();
    const old = setup("old", '{"margin": 0.05}');
    old.store(0, false);
    expect(earlyStopFor(old.ctx, old.rung, 0)).toBeUndefined();
  });
});
