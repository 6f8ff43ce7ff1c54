import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RunSpec } from "../contracts/runSpec.ts";
import { UserError } from "../errors.ts";
import { prepareData } from "../data/prepare.ts";
import { DEFAULT_MEMORY_MB, LM_PRESETS, LM_PRESETS_FILE, PROBE_TIMEOUT_S, PROXY_PRESETS, PROXY_PRESETS_FILE, stageSpec, tokenManifestOf } from "./stages.ts";

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
    expect(() => stageSpec({ ...req, stage: "nonesuch" })).toThrow(UserError);
  });
});

describe("lm stage specs", () => {
  it("the lm preset names are exactly the presets file's, each with a tokens task and a tokenizer", () => {
    const file = JSON.parse(fs.readFileSync(LM_PRESETS_FILE, "utf8")) as { presets: Record<string, { tokenizer: string; spec: { data: { tasks: Array<{ name: string }> } } }> };
    expect(Object.keys(file.presets).sort()).toEqual([...LM_PRESETS].sort());
    for (const p of Object.values(file.presets)) {
      expect(["byte", "gpt2"]).toContain(p.tokenizer);
      expect(p.spec.data.tasks.map((t) => t.name)).toContain("tokens");
    }
  });

  it("points the tokens task at a prepared directory with its manifest hash and checkpoints in the run dir", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-lmstage-"));
    try {
      fs.writeFileSync(path.join(dir, "t.txt"), "some text to tokenise, long enough for a tiny split. ".repeat(40));
      const { manifestSha256 } = prepareData({ input: path.join(dir, "t.txt"), out: path.join(dir, "tok"), tokenizer: "byte" });
      for (const preset of LM_PRESETS) {
        const spec = RunSpec.parse(stageSpec({ ...req, runDir: dir, stage: "lm", lm: { preset, data: path.join(dir, "tok") } }));
        expect(spec.data.tasks[0]).toMatchObject({ name: "tokens", path: path.join(dir, "tok"), manifest_sha256: manifestSha256 });
        expect(tokenManifestOf(spec)).toBe(manifestSha256);
        expect(spec.checkpoint_path).toBe(path.join(dir, "checkpoint.pt"));
      }
      expect(stageSpec({ ...req, stage: "proxy" }).checkpoint_path).toBeNull();
      expect(() => stageSpec({ ...req, stage: "lm", lm: { preset: "lm-cpu", data: path.join(dir, "nope") } })).toThrow(/no such token directory/);
      expect(() => stageSpec({ ...req, stage: "lm", lm: { preset: "lm-cpu", data: dir } })).toThrow(/holds no manifest.json/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
