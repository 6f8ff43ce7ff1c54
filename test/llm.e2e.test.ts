// LLM campaigns end to end (issue 7): real tiny-preset campaigns (real harness children) whose agents are the real
// @langchain/openai client talking over HTTP to the scripted OpenAI-compatible server. Each test starts from a
// copy of one offline archive (baseline cached, the DeltaNet seed done), so it trains only its LLM experiment.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCampaign } from "../src/campaign/campaign.ts";
import { CampaignConfig } from "../src/campaign/config.ts";
import { importCognition } from "../src/cognition/base.ts";
import type { Experiment } from "../src/contracts/experiment.ts";
import { readAgentLog } from "../src/llm/log.ts";
import { judgeScore } from "../src/llm/replies.ts";
import { FitnessConfig } from "../src/analyst/fitness.ts";

/** The judge term of the default (noise-scaled) fitness: (J - 0.5) * judge_scale noise floors. */
const judgeTerm = (j: number) => (j - 0.5) * FitnessConfig.parse({}).judge_scale;
import { genomeKey, SEED_GENOMES } from "../src/contracts/genome.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { readArchive } from "./support/archive.ts";
import { reply, startOpenAIServer, type OpenAIServer } from "./support/openaiServer.ts";
import { scriptAgents } from "./support/scriptedAgents.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const ENV = { OPENAI_API_KEY: "sk-test" };
const MODEL = "scripted-model";

let server: OpenAIServer;
let tmp: string;
let template: string;
let seedId: string;

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: "sk-test" });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-llm-e2e-"));
  template = path.join(tmp, "template");
  // The offline start every test shares: the cached baseline and the seed experiment, no LLM.
  const outcome = await runCampaign({ config: config(template, { llm: null, budget: { experiments: 1 } }), signal: new AbortController().signal });
  expect(outcome.finished.map((e) => e.status)).toEqual(["done"]);
  seedId = outcome.finished[0]!.id;
  expect(seedId).toBe("e000001"); // the scripted replies cite it
  const notes = path.join(tmp, "notes");
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, "conv.md"), "# Short convolutions sharpen recall\n\nA short causal convolution before the delta rule lets each key see its predecessor, which helps associative recall.\n");
  importCognition(notes, template);
}, 300_000);

afterAll(async () => {
  await server?.close();
});

function config(archive: string, over: Record<string, unknown> = {}): CampaignConfig {
  return CampaignConfig.parse({
    name: "llm",
    archive,
    stages: { proxy: { preset: "tiny" } },
    budget: { experiments: 1 },
    // No end-of-campaign confirmation (test/confirm.e2e.test.ts's subject): a candidate the scripted judge lifts
    // beyond the band would train six more runs per test.
    confirm: { top: 0 },
    llm: { model: MODEL, base_url: server.url, max_retries: 2, prices: { [MODEL]: { input_per_mtok: 2, output_per_mtok: 8 } } },
    agents: { modes: ["genome"] },
    ...over,
  });
}

let n = 0;
/** A fresh copy of the template archive. */
function archiveCopy(): string {
  const dir = path.join(tmp, `a${++n}`);
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

const read = readArchive;

function campaign(dir: string, over: Record<string, unknown> = {}) {
  return runCampaign({ config: config(dir, over), signal: new AbortController().signal, env: ENV });
}

const plan = (name: string, genome: Record<string, unknown> | null, motivation = `Recall on MQAR is the parent's weakness [${"e000001"}]; a shorter convolution keeps the keys sharper [cg0001].`) => ({
  name, motivation, design: "Change short_conv of the delta_net design from 4 to 2; everything else as in the parent.", genome,
});

const conv2 = { ...SEED_GENOMES.delta_net, short_conv: 2 };
const analysis = {
  design_evaluation: "The change is the one the motivation names: a 2-tap convolution.",
  results_analysis: "MQAR moved little against the parent [e000001].",
  expectation_vs_reality: "The predicted gain in recall [cg0001] did not appear at this scale.",
  theoretical_explanation: "With 30 steps the state barely fills; see [cg0099] and [e000777].",
  synthesis: "Keep 4 taps; the 2-tap variant is not better here [e000001].",
  citations: ["e000001", "cg0001", "cg0099"],
};
const judge = { performance: 0.5, innovation: 0.3, complexity: 0.9, rationale: "A one-gene ablation of a known design." };

describe("archlab run with LLM agents", () => {
  it("drives a full experiment from scripted replies: plan, novelty, judge in fitness, five-part analysis, costs, agent log", async () => {
    const dir = archiveCopy();
    const script = scriptAgents(server);
    script.add("researcher", plan("delta_conv2", conv2));
    script.add("novelty", { verdict: "novel", similar_to: [], reason: "No archived design shortens the convolution." });
    script.add("judge", judge);
    script.add("analyst", analysis);
    script.add("summariser", { experience: "A 2-tap convolution on DeltaNet [e000001] was neutral at the tiny scale; keep 4 taps." });

    const outcome = await campaign(dir);
    expect(outcome.stopReason).toBe("budget of 1 experiments reached");
    expect(script.calls()).toEqual(["researcher", "novelty", "judge", "analyst", "summariser"]);
    const [e] = outcome.finished as [Experiment];
    expect(e).toMatchObject({ proposer: "llm", mode: "genome", status: "done", parentId: seedId, genomeKey: genomeKey(conv2 as never) });
    expect(e.change).toEqual({ gene: "short_conv", from: 4, to: 2 });

    // The researcher saw the parent with its code, the cognition retrieved for it, the design space.
    const prompt = server.promptText(script.requests("researcher")[0]!);
    expect(prompt).toContain(`### [${seedId}] delta_net`);
    expect(prompt).toContain("class DeltaNet");
    expect(prompt).toContain("[cg0001]");
    expect(prompt).toContain("**delta** (parent)");

    await read(dir, async (archive) => {
      const x = archive.requireExperiment(e.id);
      expect(x.fitness!.inputs.judge).toBeCloseTo(judgeScore(judge), 10);
      expect(x.fitness!.terms.judge).toBeCloseTo(judgeTerm(judgeScore(judge)), 10);
      expect(Object.keys(x.fitness!.terms).sort()).toEqual(["benchmark", "judge", "loss"]);
      expect(x.flaggedCitations).toEqual(["cg0099", "e000777"]);
      const text = (await archive.readText(e.id, "analysis"))!;
      for (const part of ["## Design evaluation", "## Results analysis", "## Expectation vs reality", "## Theoretical explanation", "## Synthesis"]) expect(text).toContain(part);
      expect(text).toMatch(/Unresolved citations.*\[cg0099\].*\[e000777\]/);
      expect(await archive.readText(e.id, "experience")).toContain("2-tap convolution on DeltaNet");
      expect(await archive.readText(e.id, "comparison")).toContain("Changed **short_conv**");
      expect(await archive.readText(e.id, "design")).toContain("from 4 to 2");
      expect(await archive.readText(e.id, "judge")).toMatch(/judge score 0\.6/);
      // Cost: every request is in the ledger under its role, and on the experiment.
      const ledger = archive.ledger({ experimentId: e.id });
      expect(ledger.map((l) => l.role)).toEqual(["researcher", "novelty", "judge", "analyst", "summariser"]);
      const dollars = ledger.reduce((s, l) => s + l.dollars, 0);
      expect(dollars).toBeGreaterThan(0);
      expect(x.costs.llmDollars).toBeCloseTo(dollars, 12);
      expect(x.costs.llmTokensIn).toBe(ledger.reduce((s, l) => s + l.tokensIn, 0));
    });
    const log = readAgentLog(path.join(dir, "runs", e.id, "agents.jsonl"));
    expect(log.map((l) => `${l.role}:${l.outcome}`)).toEqual(["researcher:ok", "novelty:ok", "judge:ok", "analyst:ok", "summariser:ok"]);

    const shown = await execa("node", [CLI, "show", e.id, "--agents", "--archive", dir], { reject: false });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/5 agent calls/);
    expect(shown.stdout).toMatch(/researcher\s+[0-9a-f]{16}\s+1\/3\s+ok\s+\d+\/\d+\s+\d+\s+\{"name":"delta_conv2"/);
    const plain = await execa("node", [CLI, "show", e.id, "--archive", dir], { reject: false });
    expect(plain.stdout).toMatch(/proposer\s+llm \(genome mode\)/);
    expect(plain.stdout).toMatch(/flagged\s+unresolved citations: \[cg0099\] \[e000777\]/);
  });

  it("repairs a code-mode candidate that fails the causality probe with the debugger's file", async () => {
    const dir = archiveCopy();
    const script = scriptAgents(server);
    const noncausal = fs.readFileSync(path.join(PROJECT_ROOT, "experiments/tests/fixtures/probe_layers/reverse_cumsum.py"), "utf8");
    const causal = fs.readFileSync(path.join(PROJECT_ROOT, "test/fixtures/layers/tiny_causal.py"), "utf8");
    script.add("researcher", { ...plan("running_mean", null, "Replace the recurrence with a running mean of a projection, to test how much recall needs a state at all [e000001]."), design: "A running mean over the sequence of a linear projection of the input, instead of the delta_net design's recurrence." });
    script.add("engineer", { code: noncausal, notes: "A running mean, computed with a cumulative sum." });
    script.add("debugger", { diagnosis: "The cumulative sum runs over the flipped sequence, so each position reads the future; use a forward cumsum.", code: `\`\`\`python\n${causal}\`\`\`` });

    const outcome = await campaign(dir, { agents: { modes: ["code"] } });
    expect(script.calls()).toEqual(["researcher", "novelty", "engineer", "debugger", "judge", "analyst", "summariser"]);
    const [e] = outcome.finished as [Experiment];
    expect(e).toMatchObject({ mode: "code", status: "done", genome: null });
    const debugPrompt = server.promptText(script.requests("debugger")[0]!);
    expect(debugPrompt).toContain("**Error kind:** noncausal");
    expect(debugPrompt).toMatch(/probe causality failed: .*max_leak=/);
    expect(debugPrompt).toContain("v.flip(1).cumsum(1).flip(1)");
    await read(dir, async (archive) => {
      const x = archive.requireExperiment(e.id);
      expect(x.repairs).toHaveLength(1);
      const [r] = x.repairs!;
      expect(r).toMatchObject({ attempt: 1, stage: "probe", errorKind: "noncausal", diagnosis: expect.stringContaining("flipped") });
      // Both files are kept by hash; the experiment runs the repaired one, committed on top of the failed one.
      expect(await archive.readCode(r!.failedCodeHash)).toBe(noncausal.replace(/\s+$/, "") + "\n");
      expect(await archive.readCode(r!.codeHash!)).toBe(causal.replace(/\s+$/, "") + "\n");
      expect(x.codeHash).toBe(r!.codeHash);
      expect(x.stages.probe!.status).toBe("ok");
      expect(x.stages.probe!.runDir).toMatch(/probe-r1$/);
      expect(fs.existsSync(path.join(r!.runDir, "result.json"))).toBe(true);
      expect(await archive.readText(e.id, "repair-1")).toContain("noncausal");
      expect(x.transitions.map((t) => t.status)).toEqual(["proposed", "implemented", "probing", "implemented", "probing", "training", "analysing", "done"]);
      expect(await archive.diff(seedId, e.id)).toContain("cumsum");
    });
  });

  it("re-plans when the novelty check finds a repeat, and rejects a plan that stays a repeat before any compute", async () => {
    const dir = archiveCopy();
    const script = scriptAgents(server);
    // First plan: the parent's own genome (caught without a call); second: judged a repeat by the novelty check.
    script.add("researcher", plan("delta_again", SEED_GENOMES.delta_net!), plan("delta_conv8", { ...SEED_GENOMES.delta_net, short_conv: 8 }));
    script.add("novelty", { verdict: "repeated", similar_to: ["e000001"], reason: "Only the convolution width differs, which the archive already varies." });
    const outcome = await campaign(dir, { agents: { modes: ["genome"], novelty: { max_plans: 2 } } });
    expect(script.calls()).toEqual(["researcher", "researcher", "novelty"]);
    const second = server.promptText(script.requests("researcher")[1]!);
    expect(second).toMatch(/Your plan "delta_again" proposed a genome that is already archived as \[e000001\]/);
    const [e] = outcome.finished as [Experiment];
    expect(e.status).toBe("rejected");
    expect(e.reason).toBe("novelty: repeats [e000001] after 2 plans: Only the convolution width differs, which the archive already varies.");
    expect(e.codeHash).toBeNull();
    expect(e.stages).toEqual({});
    await read(dir, async (archive) => {
      expect(await archive.readText(e.id, "novelty")).toMatch(/verdict: repeated \(repeats \[e000001\]\)\nplans: 2/);
    });
  });

  it("stops cleanly when the dollar budget is spent, at the call that would exceed it; the experiment resumes next run", async () => {
    const dir = archiveCopy();
    const script = scriptAgents(server);
    // 500k prompt tokens at $2/Mtok = $1 a call: with $2.5, calls 1-3 run and the 4th (the analyst) is refused.
    const usage = { prompt_tokens: 500_000, completion_tokens: 0 };
    script.add("researcher", reply.json(plan("delta_conv2", conv2), usage));
    script.add("novelty", reply.json({ verdict: "novel", similar_to: [], reason: "new" }, usage));
    script.add("judge", reply.json(judge, usage));
    const first = await campaign(dir, { budget: { experiments: 1, llm_dollars: 2.5 } });
    expect(script.calls()).toEqual(["researcher", "novelty", "judge"]);
    expect(first.stopReason).toBe("LLM budget reached: $3.0000 of $2.5 spent");
    expect(first.interrupted).toHaveLength(1);
    const id = first.interrupted[0]!;
    await read(dir, (archive) => {
      expect(archive.requireExperiment(id).status).toBe("analysing");
      expect(archive.requireExperiment(id).costs.llmDollars).toBeCloseTo(3, 10);
      const c = archive.campaigns().at(-1)!;
      expect(c).toMatchObject({ endedAt: null, stopReason: first.stopReason });
    });

    // Same budget: nothing more is spent. A raised budget: the experiment resumes and finishes.
    const again = await campaign(dir, { budget: { experiments: 1, llm_dollars: 2.5 } });
    expect(again.stopReason).toMatch(/^LLM budget reached/);
    expect(script.calls()).toHaveLength(3);
    const raised = await campaign(dir, { budget: { experiments: 1, llm_dollars: 100 } });
    expect(raised.finished.map((e) => [e.id, e.status])).toEqual([[id, "done"]]);
    expect(script.calls().slice(3)).toEqual(["judge", "analyst", "summariser"]);
  });

  it("survives a researcher that never answers properly, a 429 and a malformed reply: recorded, offline fallback, loop goes on", async () => {
    const dir = archiveCopy();
    let script = scriptAgents(server);
    script.add("researcher", reply.text("{\"name\": \"half"), reply.text("I would add a gate."), reply.json({ name: "x" }));
    const [fallback] = (await campaign(dir)).finished as [Experiment];
    expect(script.calls().slice(0, 3)).toEqual(["researcher", "researcher", "researcher"]);
    expect(fallback.proposer).toBe("mutation");
    expect(["done", "rejected", "failed"]).toContain(fallback.status);
    expect(fallback.agentFailures).toEqual([expect.objectContaining({ role: "researcher", kind: "invalid_reply", message: expect.stringMatching(/^no valid reply in 3 attempts/) })]);
    expect(fallback.transitions[0]!.note).toBe("LLM researcher failed (invalid_reply); offline mutation proposal instead");
    expect(readAgentLog(path.join(dir, "runs", fallback.id, "agents.jsonl")).slice(0, 3).map((l) => l.outcome)).toEqual(["invalid", "invalid", "invalid"]);

    script = scriptAgents(server);
    script.add("researcher", plan("delta_conv2", conv2));
    script.add("judge", reply.status(429, { message: "Rate limit reached", retryAfter: 0 }), judge);
    script.add("analyst", reply.text("{\"design_evaluation\": "), analysis);
    const [e] = (await campaign(dir)).finished as [Experiment];
    expect(script.calls()).toEqual(["researcher", "novelty", "judge", "judge", "analyst", "analyst", "summariser"]);
    expect(e).toMatchObject({ proposer: "llm", status: "done" });
    expect(e.agentFailures).toBeUndefined();
    expect(e.fitness!.terms.judge).toBeCloseTo(judgeTerm(judgeScore(judge)), 10);
    expect(script.requests("judge").map((r) => r.status)).toEqual([429, 200]);
    const log = readAgentLog(path.join(dir, "runs", e.id, "agents.jsonl"));
    expect(log.map((l) => `${l.role}:${l.outcome}`)).toEqual(["researcher:ok", "novelty:ok", "judge:ok", "analyst:invalid", "analyst:ok", "summariser:ok"]);
  });

  it("says once on the run's output that the LLM endpoint is dead (connection refused, HTTP 500) and goes on offline, exit 0", async () => {
    // Nothing listens on `refused` (a port just released); `failing` answers every request with HTTP 500.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const refused = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const failing = http.createServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "upstream exploded", type: "server_error" } }));
    });
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    const failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/v1`;
    try {
      for (const [url, budget, cause] of [[`http://127.0.0.1:${refused}/v1`, 2, /Connection error/], [failingUrl, 1, /HTTP 500: .*upstream exploded/]] as const) {
        const dir = archiveCopy();
        const file = path.join(tmp, `dead-${budget}.yaml`);
        fs.writeFileSync(file, `name: dead\nllm: {model: ${MODEL}, base_url: "${url}", max_retries: 0}\nagents: {modes: [genome]}\nstages: {proxy: {preset: tiny}}\nconfirm: {top: 0}\n`);
        const run = await execa("node", [CLI, "run", file, "--archive", dir, "--budget", String(budget)], { reject: false, env: ENV });
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^${budget} experiments finished; budget of ${budget} experiments reached`, "m"));
        const warnings = `${run.stdout}\n${run.stderr}`.split("\n").filter((l) => l.includes("LLM endpoint"));
        expect(warnings, run.stderr).toHaveLength(1); // once, however many experiments and calls it failed
        expect(warnings[0]).toMatch(/warning: the LLM endpoint is unavailable \(researcher: /);
        expect(warnings[0]).toContain(url);
        expect(warnings[0]).toMatch(cause);
        expect(warnings[0]).toMatch(/\(after 0 retries\)\); offline agents stand in, each failure is recorded on its experiment \(agentFailures\)$/);
        expect(run.stderr).not.toMatch(/\n\s+at /); // no stack
        const mine = await read(dir, (a) => a.experiments().filter((e) => e.id !== seedId));
        expect(mine).toHaveLength(budget);
        for (const e of mine) {
          expect(e.proposer).toBe("mutation"); // the offline proposer stood in for the researcher
          expect(e.agentFailures?.[0]).toMatchObject({ role: "researcher", kind: "unavailable", message: expect.stringContaining(url) });
        }
      }
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
  }, 300_000);

  it("refuses an llm section without its key in one line naming the variable (exit 2), before touching the archive", async () => {
    const file = path.join(tmp, "llm.yaml");
    fs.writeFileSync(file, `llm: {model: ${MODEL}}\nstages: {proxy: {preset: tiny}}\n`);
    const archive = path.join(tmp, "never");
    const env = { PATH: process.env.PATH!, HOME: tmp };
    const viaFile = await execa("node", [CLI, "run", file, "--archive", archive], { reject: false, env, extendEnv: false });
    expect(viaFile.exitCode).toBe(2);
    expect(viaFile.stderr.trim().split("\n")).toHaveLength(1);
    expect(viaFile.stderr).toMatch(/^archlab: OPENAI_API_KEY is not set/);
    const viaFlag = await execa("node", [CLI, "run", "--llm-model", MODEL, "--archive", archive], { reject: false, env, extendEnv: false });
    expect(viaFlag.exitCode).toBe(2);
    expect(viaFlag.stderr).toMatch(/^archlab: OPENAI_API_KEY is not set/);
    expect(fs.existsSync(archive)).toBe(false);
  });
});
