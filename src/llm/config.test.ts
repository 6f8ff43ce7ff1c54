import { describe, expect, it } from "vitest";
import { dollarsFor, LlmConfig, modelsInUse, roleSettings } from "./config.ts";

describe("llm config", () => {
  it("fills defaults and resolves per-role overrides", () => {
    const config = LlmConfig.parse({
      model: "gpt-4.1-mini",
      temperature: 0.7,
      roles: { researcher: { model: "o3", temperature: null, max_attempts: 5 }, judge: { structured_output: "function_calling" } },
    });
    expect(config).toMatchObject({ base_url: null, api_key_env: "OPENAI_API_KEY", max_attempts: 3, max_retries: 4, structured_output: "json_schema", prices: {}, embeddings: null });
    expect(roleSettings(config, "researcher")).toMatchObject({ model: "o3", temperature: null, maxAttempts: 5, method: "json_schema", timeoutMs: 300_000 });
    expect(roleSettings(config, "judge")).toMatchObject({ model: "gpt-4.1-mini", temperature: 0.7, maxAttempts: 3, method: "function_calling" });
    expect(modelsInUse(config)).toEqual(["o3", "gpt-4.1-mini"]);
  });

  it("rejects unknown keys and roles, and bad values", () => {
    expect(LlmConfig.safeParse({ model: "m", modle: "x" }).success).toBe(false);
    expect(LlmConfig.safeParse({ model: "m", roles: { planner: { model: "x" } } }).success).toBe(false);
    expect(LlmConfig.safeParse({ model: "m", base_url: "not a url" }).success).toBe(false);
    expect(LlmConfig.safeParse({ model: "m", api_key_env: "MY-KEY" }).success).toBe(false);
    expect(LlmConfig.safeParse({ model: "m", prices: { m: { input_per_mtok: -1, output_per_mtok: 1 } } }).success).toBe(false);
    expect(LlmConfig.safeParse({}).success).toBe(false);
  });

  it("prices calls per million tokens, null for unpriced models", () => {
    const prices = { m: { input_per_mtok: 2.5, output_per_mtok: 10 } };
    expect(dollarsFor(prices, "m", 2_000_000, 100_000)).toBeCloseTo(6, 12);
    expect(dollarsFor(prices, "other", 10, 10)).toBeNull();
  });
});

describe("the campaign file's llm section", () => {
  it("is optional (null: offline) and validated with the campaign, unknown keys named", async () => {
    const { loadCampaign } = await import("../campaign/config.ts");
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-llm-campaign-"));
    expect(loadCampaign(undefined, {}).llm).toBeNull();
    const file = path.join(dir, "c.yaml");
    fs.writeFileSync(file, "llm:\n  model: gpt-4.1-mini\n  roles:\n    analyst: { model: o3 }\n  prices:\n    o3: { input_per_mtok: 2, output_per_mtok: 8 }\n");
    const config = loadCampaign(file, {});
    expect(config.llm).toMatchObject({ model: "gpt-4.1-mini", api_key_env: "OPENAI_API_KEY", roles: { analyst: { model: "o3" } } });
    expect(roleSettings(config.llm!, "analyst").model).toBe("o3");
    fs.writeFileSync(file, "llm:\n  model: m\n  roles:\n    planner: { model: o3 }\n");
    expect(() => loadCampaign(file, {})).toThrow(`${file}: unknown key "llm.roles.planner"`);
  });
});
