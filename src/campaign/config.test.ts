import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { CampaignConfig, loadCampaign, slotsOf, untilDeadline } from "./config.ts";
import { firstRung, trainingRungs } from "./rungs.ts";

function file(text: string): string {
  const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-cfg-")), "c.yaml");
  fs.writeFileSync(p, text);
  return p;
}

describe("campaign config", () => {
  it("has working defaults and lets flags override the file", () => {
    const c = loadCampaign(file("name: nightly\nbudget: {experiments: 50}\nstages: {proxy: {preset: full}}\n"), { budget: 6, parallel: 2 });
    expect(c.name).toBe("nightly");
    expect(c.budget.experiments).toBe(6);
    expect(c.parallel).toBe(2);
    expect(firstRung(c).preset).toBe("full");
    expect(c.proposer.sampling.policy).toBe("asi-arch");
    expect(loadCampaign(undefined, {}).archive).toBe("archive/default");
  });

  it.each([
    ["budget: {experimentz: 3}\n", /unknown key "budget\.experimentz"/],
    ["colour: blue\n", /unknown key "colour"/],
    ["parallel: -1\n", /parallel: /],
    ["until: '25:00'\n", /until: HH:MM/],
    ["devices: gpu0\n", /devices: cpu or cuda:N/],
    ["proposer: {seeds: [transformerx]}\n", /proposer\.seeds\.0/],
    ["- a list\n", /must be a YAML mapping/],
    ["a: [unclosed\n", /not valid YAML/],
    ["agents: {debug_attempt: 2}\n", /unknown key "agents\.debug_attempt"/],
    ["agents: {modes: [prose]}\n", /agents\.modes\.0/],
    ["llm: {model: m, api_key_env: 'my key'}\n", /llm\.api_key_env: an environment variable name/],
  ])("rejects %j in one line naming the key", (text, message) => {
    const run = () => loadCampaign(file(text), {});
    expect(run).toThrow(UserError);
    expect(run).toThrow(message);
  });

  it("reads the legacy mapping form as the same two-rung ladder as the list form, defaults from one schema", () => {
    const legacy = loadCampaign(file("stages: {proxy: {preset: tiny, seeds: 2}, probe: {max_params: 100000}}\n"), {});
    const list = loadCampaign(file("stages:\n  - {stage: probe, max_params: 100000}\n  - {stage: proxy, preset: tiny, seeds: 2}\n"), {});
    expect(legacy.stages).toEqual(list.stages);
    expect(legacy.stages.map((r) => r.name)).toEqual(["probe", "proxy"]);
    expect(firstRung(legacy)).toMatchObject({ stage: "proxy", preset: "tiny", seeds: 2, baseline_seeds: 3, promote: { top: 0.25, beats_baseline: true }, early_stop: null });
    expect(loadCampaign(undefined, {}).stages.map((r) => r.stage)).toEqual(["probe", "proxy"]);
    // the frozen config parses to itself (confirmation re-reads it from the archive)
    expect(CampaignConfig.parse(JSON.parse(JSON.stringify(legacy)))).toEqual(legacy);
  });

  it("reads a ladder: rungs in order with presets, rules and early stop; --preset sets the proxy rung", () => {
    const c = loadCampaign(file([
      "stages:", "  - stage: probe", "  - {stage: proxy, preset: quick, promote: {top: 0.5, beats_baseline: true, min_fitness: 0}}",
      "  - {stage: lm, preset: lm-cpu, baseline_seeds: 2, early_stop: {margin: 0.2}}",
      "  - {stage: lm, name: explore, preset: explore}", "",
    ].join("\n")), { preset: "tiny" });
    expect(trainingRungs(c).map((r) => [r.name, r.stage, r.preset])).toEqual([["proxy", "proxy", "tiny"], ["lm", "lm", "lm-cpu"], ["explore", "lm", "explore"]]);
    expect(firstRung(c).promote).toEqual({ top: 0.5, beats_baseline: true, min_fitness: 0 });
    expect(trainingRungs(c)[1]!.early_stop).toEqual({ margin: 0.2, warmup_fraction: 0.25, window: 5 });
    expect(CampaignConfig.parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => loadCampaign(file("stages: [{stage: probe}, {stage: lm}]\n"), { preset: "tiny" })).toThrow(/--preset sets the proxy rung's preset/);
  });

  it("reads the shipped ladders: probe → proxy → lm-cpu on CPU, ending in explore on GPUs", () => {
    const at = (f: string) => path.join(PROJECT_ROOT, "campaigns", f);
    const cpu = loadCampaign(at("ladder-cpu.yaml"), {});
    expect(cpu.stages.map((r) => `${r.name}:${"preset" in r ? r.preset : ""}`)).toEqual(["probe:", "proxy:quick", "lm:lm-cpu"]);
    expect(firstRung(cpu).promote).toEqual({ top: 0.25, beats_baseline: true });
    const gpu = loadCampaign(at("ladder-gpu.yaml"), {});
    expect(gpu.devices).toBe("auto");
    expect(trainingRungs(gpu).at(-1)).toMatchObject({ name: "explore", stage: "lm", preset: "explore" });
  });

  it.each([
    ["stages: [{stage: probe}, {stage: huge}]\n", /stages\.huge: unknown stage "huge" \(stages: probe, proxy, lm\)/],
    ["stages: {proxy: {preset: huge}}\n", /stages\.proxy\.preset: /],
    ["stages: {proxy: {colour: red}}\n", /unknown key "stages\.proxy\.colour"/],
    ["stages: {huge: {}}\n", /stages\.huge: unknown stage "huge"/],
    ["stages: [{stage: proxy}]\n", /stages: the first rung must be probe/],
    ["stages: [{stage: probe}]\n", /stages: no training rung after probe/],
    ["stages: [{stage: probe}, {stage: lm}, {stage: proxy}]\n", /stages: proxy can only be the first training rung.*probe → lm → proxy/],
    ["stages: [{stage: probe}, {stage: proxy}, {stage: probe}]\n", /stages: probe can only be the first rung/],
    ["stages: [{stage: probe}, {stage: lm}, {stage: lm}]\n", /stages: two rungs named lm: give one a name/],
    ["stages: [{stage: probe}, {stage: proxy, promote: {top: 2}}]\n", /stages\.proxy\.promote\.top: /],
    ["stages: [{stage: probe}, {stage: proxy, promote: {best: 3}}]\n", /unknown key "stages\.proxy\.promote\.best"/],
    ["stages: [{stage: probe}, {stage: lm, early_stop: {margin: -1}}]\n", /stages\.lm\.early_stop\.margin: /],
    ["stages: [{stage: probe}, {stage: lm, preset: huge}]\n", /stages\.lm\.preset: /],
  ])("rejects the bad ladder %j in one line", (text, message) => {
    const run = () => loadCampaign(file(text), {});
    expect(run).toThrow(UserError);
    expect(run).toThrow(message);
  });

  it("refuses a dollar budget without an LLM instead of ignoring it", () => {
    expect(() => loadCampaign(undefined, { maxDollars: 5 })).toThrow(/needs an llm: section or --llm-model/);
  });

  it("rejects a missing file and bad flags", () => {
    expect(() => loadCampaign("/no/such.yaml", {})).toThrow(/no such campaign file/);
    expect(() => loadCampaign(undefined, { until: "7pm" })).toThrow(/until/);
  });

  it("is offline without an llm section; --llm-model adds one, over the file's when it has one; --max-dollars", () => {
    const offline = loadCampaign(undefined, {});
    expect(offline.llm).toBeNull();
    expect(offline.agents).toMatchObject({ modes: ["genome", "code"], debug_attempts: 3, novelty: { k: 5, max_plans: 3, llm_check: true } });
    const flagged = loadCampaign(undefined, { llmModel: "gpt-4.1-mini", maxDollars: 5 });
    expect(flagged.llm).toMatchObject({ model: "gpt-4.1-mini", api_key_env: "OPENAI_API_KEY", base_url: null });
    expect(flagged.budget.llm_dollars).toBe(5);
    const local = loadCampaign(file("llm: {model: qwen, base_url: 'http://127.0.0.1:8000/v1', api_key_env: null}\nagents: {debug_attempts: 1}\n"), { llmModel: "llama" });
    expect(local.llm).toMatchObject({ model: "llama", base_url: "http://127.0.0.1:8000/v1", api_key_env: null });
    expect(local.agents.debug_attempts).toBe(1);
  });

  it("maps devices to slots", () => {
    expect(slotsOf(loadCampaign(undefined, { parallel: 3 }))).toEqual([undefined, undefined, undefined]);
    expect(slotsOf(loadCampaign(undefined, { devices: "cuda:0,cuda:3" }))).toEqual(["0", "3"]);
  });

  it("finds the next HH:MM", () => {
    const now = new Date(2026, 0, 1, 23, 0);
    expect(untilDeadline("07:00", now)).toEqual(new Date(2026, 0, 2, 7, 0));
    expect(untilDeadline("23:30", now)).toEqual(new Date(2026, 0, 1, 23, 30));
  });
});
