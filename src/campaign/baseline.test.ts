// The baseline's run specs follow the slot they train in: a campaign with `--devices cuda:N` trains its baseline
// (and, through the same deviceOf, its candidates) on the GPU the child sees, never silently on the CPU.
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { baselineSpecs, deviceOf } from "./baseline.ts";
import { loadCampaign, slotsOf } from "./config.ts";
import { firstRung } from "./rungs.ts";

describe("baseline specs and devices", () => {
  it.each([
    { devices: "cpu", parallel: 2, slots: [undefined, undefined], device: "cpu", compile: false },
    { devices: "cuda:0", parallel: 1, slots: ["0"], device: "cuda", compile: true },
    { devices: "cuda:1,cuda:3", parallel: 1, slots: ["1", "3"], device: "cuda", compile: true },
  ])("--devices $devices: slots $slots train on $device", ({ devices, parallel, slots, device, compile }) => {
    const config = loadCampaign(undefined, { devices, parallel, preset: "tiny" });
    expect(slotsOf(config)).toEqual(slots);
    for (const slot of slotsOf(config)) {
      expect(deviceOf(slot)).toBe(device);
      const specs = baselineSpecs("/tmp/archlab-a", config, undefined, deviceOf(slot));
      expect(specs.length).toBe(firstRung(config).baseline_seeds);
      for (const spec of specs) {
        expect(spec.device).toBe(device);
        expect(spec.compile).toBe(compile);
        expect(spec.result_path.startsWith("/tmp/archlab-a/baselines/runs/seed")).toBe(true);
      }
    }
  });

  it("takes the seeds it is given (confirmation's fresh seeds) and refuses a missing baseline layer in one line", () => {
    const config = loadCampaign(undefined, { preset: "tiny" });
    expect(baselineSpecs("/tmp/archlab-a", config, [1000, 1001]).map((s) => s.seed)).toEqual([1000, 1001]);
    const missing = { ...config, baseline: { ...config.baseline, path: "experiments/layers/nope.py" } };
    expect(() => baselineSpecs("/tmp/archlab-a", missing)).toThrow(UserError);
    expect(() => baselineSpecs("/tmp/archlab-a", missing)).toThrow(/no such baseline layer: .*nope\.py/);
  });
});
