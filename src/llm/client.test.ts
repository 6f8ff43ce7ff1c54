/** The real @langchain/openai client against the scripted OpenAI-compatible server, over HTTP. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { UserError } from "../errors.ts";
import { reply, startOpenAIServer, type OpenAIServer } from "../../test/support/openaiServer.ts";
import { BudgetExceeded, BudgetGuard } from "./budget.ts";
import { LlmClient, type LlmClientOptions } from "./client.ts";
import { LlmConfig } from "./config.ts";
import { ledgerEntryFor, readAgentLog, type LlmUsage } from "./log.ts";
import { MissingApiKeyError } from "./model.ts";
import { PROMPT_PLACEHOLDERS } from "./prompts.ts";
import { ResearcherReply } from "./replies.ts";

const Plan = z.object({ name: z.string().min(3), score: z.number().min(0).max(1) });
const good = { name: "gated_delta_v2", score: 0.5 };

let server: OpenAIServer;
let tmp: string;
let promptsDir: string;

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: "sk-test" });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-llm-"));
  promptsDir = path.join(tmp, "prompts");
  fs.mkdirSync(promptsDir);
  fs.writeFileSync(path.join(promptsDir, "researcher.md"), "Improve the parent {{parent}}.\n");
  expect(server.pending()).toBe(0);
  server.reset();
});

function client(llm: Record<string, unknown> = {}, opts: Partial<LlmClientOptions> = {}): LlmClient {
  const config = LlmConfig.parse({ model: "test-model", base_url: server.url, prompts_dir: promptsDir, max_retries: 2, ...llm });
  return new LlmClient({ config, env: { OPENAI_API_KEY: "sk-test" }, ...opts });
}

const ctx = () => ({ experimentId: "e000007", logFile: path.join(tmp, "runs", "e000007", "agents.jsonl") });

describe("callStructured", () => {
  it("returns a validated reply asked for as json_schema, and logs it", async () => {
    server.enqueue(reply.json(good));
    const out = await client().callStructured("researcher", "researcher", { parent: "e000001" }, Plan, ctx());
    expect(out).toMatchObject({ ok: true, value: good, attempts: 1 });
    const [req] = server.chatRequests();
    expect(req!.headers.authorization).toBe("Bearer sk-test");
    expect(req!.body.model).toBe("test-model");
    expect(req!.body.response_format.type).toBe("json_schema");
    expect(req!.body.response_format.json_schema.schema.required).toEqual(["name", "score"]);
    expect(server.promptText(req!)).toContain("Improve the parent e000001.");
    const log = readAgentLog(ctx().logFile);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ role: "researcher", experimentId: "e000007", prompt: "researcher", outcome: "ok", attempt: 1, reply: JSON.stringify(good) });
    expect(fs.readFileSync(path.join(tmp, "runs", "e000007", "prompts", `${log[0]!.promptHash}.md`), "utf8")).toContain("Improve the parent e000001.");
  });

  it("asks for a forced tool call with function_calling, and for json_object with json_mode", async () => {
    server.enqueue(reply.json(good), reply.json(good));
    const fc = await client({ structured_output: "function_calling" }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    const jm = await client({ roles: { researcher: { structured_output: "json_mode" } } }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(fc).toMatchObject({ ok: true, value: good });
    expect(jm).toMatchObject({ ok: true, value: good });
    const [a, b] = server.chatRequests();
    expect(a!.body.tools[0].function.name).toBe("researcher_reply");
    expect(a!.body.tool_choice).toEqual({ type: "function", function: { name: "researcher_reply" } });
    expect(b!.body.response_format).toEqual({ type: "json_object" });
  });

  for (const method of ["json_schema", "function_calling", "json_mode"] as const) {
    it(`retries malformed JSON with the error shown, then succeeds (${method})`, async () => {
      server.enqueue(reply.text('{"name": "gated_delta_v2", "score": 0.5'), reply.json(good));
      const out = await client({ structured_output: method }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
      expect(out).toMatchObject({ ok: true, value: good, attempts: 2 });
      const second = server.promptText(server.chatRequests()[1]!);
      expect(second).toContain("not valid JSON");
      expect(second).toContain('{"name": "gated_delta_v2", "score": 0.5');
      const log = readAgentLog(ctx().logFile);
      expect(log.map((l) => l.outcome)).toEqual(["invalid", "ok"]);
      expect(log[0]!.reply).toBe('{"name": "gated_delta_v2", "score": 0.5');
      expect(log[0]!.tokensOut).toBeGreaterThan(0);
    });
  }

  it("shows a schema violation to the model, naming the field", async () => {
    server.enqueue(reply.json({ name: "x", score: 3 }), reply.json(good));
    const out = await client().callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out.ok).toBe(true);
    const second = server.promptText(server.chatRequests()[1]!);
    expect(second).toMatch(/Validation error: .*name/);
    expect(second).toMatch(/score/);
  });

  it("returns a typed failure after max_attempts invalid replies, never throwing", async () => {
    server.enqueue(reply.text("I think we should add a gate."), reply.json({ name: 1 }), reply.text("```json\n{}\n```"));
    const out = await client({ max_attempts: 3 }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.kind).toBe("invalid_reply");
    expect(out.attempts).toBe(3);
    expect(out.message).toMatch(/^no valid reply in 3 attempts: /);
    expect(out.lastReply).toBe("```json\n{}\n```");
    expect(server.chatRequests()).toHaveLength(3);
    expect(out.usage.requests).toBe(3);
  });

  it("retries HTTP 429 with backoff inside one attempt, then succeeds", async () => {
    server.enqueue(reply.status(429, { message: "Rate limit reached" }), reply.json(good));
    const out = await client().callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out).toMatchObject({ ok: true, value: good, attempts: 1 });
    expect(server.chatRequests().map((r) => r.status)).toEqual([429, 200]);
  });

  it("reports an endpoint that keeps failing as unavailable after the HTTP retries", async () => {
    server.enqueue(reply.status(503), reply.status(502));
    const out = await client({ max_retries: 1 }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out).toMatchObject({ ok: false, kind: "unavailable", attempts: 1 });
    expect(server.chatRequests()).toHaveLength(2);
    expect(readAgentLog(ctx().logFile)[0]!.outcome).toBe("unavailable");
  });

  it("reports an endpoint that does not answer as unavailable", async () => {
    const gone = await startOpenAIServer();
    await gone.close();
    const out = await client({ base_url: gone.url, max_retries: 0 }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out).toMatchObject({ ok: false, kind: "unavailable", attempts: 1 });
  });

  it("drives a shipped template end to end (researcher.md -> ResearcherReply)", async () => {
    const plan = { name: "dual_decay_delta", motivation: "Recall on MQAR trails the parent [e000003]; a second fast path keeps local detail.", design: "Add a decayed_linear_attention path with fixed per-head decay, gated per head.", genome: null };
    server.enqueue(reply.json(plan));
    const vars = Object.fromEntries(PROMPT_PLACEHOLDERS.researcher.map((p) => [p, `<${p}>`]));
    const config = LlmConfig.parse({ model: "m", base_url: server.url });
    const out = await new LlmClient({ config, env: { OPENAI_API_KEY: "sk-test" } }).callStructured("researcher", "researcher", { ...vars, mode: "code" }, ResearcherReply, ctx());
    expect(out).toMatchObject({ ok: true, value: plan });
    const sent = server.promptText(server.chatRequests()[0]!);
    expect(sent).toContain("## Proposal mode: code");
    expect(sent).toContain("gated_delta_rule(q, k, v, g, beta)");
    expect(sent).toContain("class DeltaNet(nn.Module)");
  });

  it("reports a refused request (HTTP 400) at once, without retrying", async () => {
    server.enqueue(reply.status(400, { message: "maximum context length exceeded" }));
    const out = await client().callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out).toMatchObject({ ok: false, kind: "request_rejected" });
    if (!out.ok) expect(out.message).toContain("maximum context length");
    expect(server.chatRequests()).toHaveLength(1);
  });

  it("throws a one-line UserError when the endpoint rejects the key", async () => {
    const bad = LlmConfig.parse({ model: "m", base_url: server.url, prompts_dir: promptsDir });
    const c = new LlmClient({ config: bad, env: { OPENAI_API_KEY: "sk-wrong" } });
    const err = await c.callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/rejected the API key in OPENAI_API_KEY \(HTTP 401/);
    expect((err as Error).message).not.toContain("\n");
  });
});

describe("metering and budget", () => {
  const priced = { prices: { "test-model": { input_per_mtok: 2, output_per_mtok: 8 } } };
  const usage = { prompt_tokens: 1000, completion_tokens: 500 };

  it("meters tokens and dollars per request and reports each for the ledger", async () => {
    const seen: LlmUsage[] = [];
    server.enqueue(reply.text("{", usage), reply.json(good, usage));
    const out = await client(priced, { onUsage: (u) => void seen.push(u) }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(out.ok).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ role: "researcher", experimentId: "e000007", model: "test-model", attempt: 1, tokensIn: 1000, tokensOut: 500, priced: true });
    expect(seen[0]!.dollars).toBeCloseTo(0.006, 10);
    expect(out.usage).toMatchObject({ tokensIn: 2000, tokensOut: 1000, requests: 2 });
    expect(out.usage.dollars).toBeCloseTo(0.012, 10);
    expect(ledgerEntryFor(seen[1]!, "c000001")).toMatchObject({
      campaign: "c000001", experimentId: "e000007", kind: "llm", role: "researcher", tokensIn: 1000, tokensOut: 500,
    });
    expect(readAgentLog(ctx().logFile).map((l) => l.dollars)).toEqual([seen[0]!.dollars, seen[1]!.dollars]);
  });

  it("counts an unpriced model's tokens at $0", async () => {
    const seen: LlmUsage[] = [];
    server.enqueue(reply.json(good, usage));
    await client({}, { onUsage: (u) => void seen.push(u) }).callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx());
    expect(seen[0]).toMatchObject({ tokensIn: 1000, dollars: 0, priced: false });
  });

  it("throws BudgetExceeded before the request that would start after the budget is spent", async () => {
    const budget = new BudgetGuard({ maxDollars: 0.01 });
    const c = client(priced, { budget });
    server.enqueue(reply.json(good, usage), reply.json(good, usage));
    for (let i = 0; i < 2; i++) {
      expect((await c.callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx())).ok).toBe(true);
    }
    expect(budget.spentDollars).toBeCloseTo(0.012, 10);
    const err = await c.callStructured("researcher", "researcher", { parent: "p" }, Plan, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExceeded);
    expect((err as BudgetExceeded).message).toMatch(/LLM budget reached: \$0\.0120 of \$0\.01 spent/);
    expect(server.chatRequests()).toHaveLength(2);
  });

  it("refuses a dollar budget when a role's model has no price", () => {
    const config = LlmConfig.parse({ model: "m", roles: { judge: { model: "cheap" } }, prices: { m: { input_per_mtok: 1, output_per_mtok: 1 } } });
    expect(() => new LlmClient({ config, env: { OPENAI_API_KEY: "k" }, budget: new BudgetGuard({ maxDollars: 1 }) }))
      .toThrow('an LLM dollar budget is set but llm.prices has no price for model "cheap"');
  });
});

describe("keys and endpoints", () => {
  it("names the missing key's variable in one line", () => {
    const config = LlmConfig.parse({ model: "m" });
    expect(() => new LlmClient({ config, env: {} })).toThrow(MissingApiKeyError);
    expect(() => new LlmClient({ config, env: {} })).toThrow(/OPENAI_API_KEY is not set/);
    const custom = LlmConfig.parse({ model: "m", api_key_env: "VLLM_KEY" });
    expect(() => new LlmClient({ config: custom, env: { OPENAI_API_KEY: "k" } })).toThrow(/VLLM_KEY is not set/);
  });

  it("takes the endpoint from OPENAI_BASE_URL and needs no key when api_key_env is null", async () => {
    const open = await startOpenAIServer({ replies: [reply.json(good)] });
    try {
      const config = LlmConfig.parse({ model: "local", api_key_env: null, prompts_dir: promptsDir });
      const c = new LlmClient({ config, env: { OPENAI_BASE_URL: open.url } });
      expect(await c.callStructured("researcher", "researcher", { parent: "p" }, Plan, { experimentId: null, logFile: null })).toMatchObject({ ok: true });
      expect(open.chatRequests()[0]!.body.model).toBe("local");
    } finally {
      await open.close();
    }
  });
});
