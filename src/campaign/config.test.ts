import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { loadCampaign, slotsOf, untilDeadline } from "./config.ts";

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
    expect(c.stages.proxy.preset).toBe("full");
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
