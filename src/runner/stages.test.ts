import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { RunSpec } from "../contracts/runSpec.ts";
import { UserError } from "../errors.ts";
import { DEFAULT_MEMORY_MB, PROBE_TIMEOUT_S, PROXY_PRESETS, PROXY_PRESETS_FILE, stageSpec } from "./stages.ts";

const req = { layerPath: "experiments/layers/delta_net.py", className: "DeltaNet", runDir: "/tmp/archlab-stages" };

describe("stage specs", () => {
  it("the proxy preset names are exactly the presets file's", () => {
    const file = JSON.parse(fs.readFileSync(PROXY_PRESETS_FILE, "utf8")) as { presets: Record<string, unknown> };
    expect(Object.keys(file.presets).sort()).toEqual([...PROXY_PRESETS].sort());
  });

  it("every stage and preset gives a spec the contract accepts, with the shared limits", () => {
    for (const stage of ["smoke", "probe"]) expect(RunSpec.parse(stageSpec({ ...req, stage }))).toEqual(stageSpec({ ...req, stage }));
    for (const preset of PROXY_PRESETS) RunSpec.parse(stageSpec({ ...req, stage: "proxy", proxy: { preset } }));
    const probe = stageSpec({ ...req, stage: "probe" });
    expect(probe.timeout_s).toBe(PROBE_TIMEOUT_S);
    expect(probe.memory_mb).toBe(DEFAULT_MEMORY_MB);
    expect(probe.probe).toMatchObject({ enabled: true, max_exponent: 1.3, max_params: null });
  });

  it("rejects a probe key the harness would reject", () => {
    const spec = stageSpec({ ...req, stage: "probe" });
    expect(RunSpec.safeParse({ ...spec, probe: { ...spec.probe, extra: 1 } }).success).toBe(false);
    expect(() => stageSpec({ ...req, stage: "verify" })).toThrow(UserError);
  });
});
