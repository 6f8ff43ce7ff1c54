// Untrusted code cannot fake a discovery (README "Safety"): each attack layer in test/fixtures/attacks/ run
// through the real harness (trusted evaluator + candidate process, bubblewrap when it works here).
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSpec } from "../src/contracts/runSpec.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { runHarness, type HarnessRun } from "../src/runner/harness.ts";
import type { SandboxMode } from "../src/runner/sandbox.ts";
import { sandboxAvailable } from "../src/runner/sandbox.ts";
import { stageSpec } from "../src/runner/stages.ts";

const ATTACKS = path.join(PROJECT_ROOT, "test", "fixtures", "attacks");
const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const KEY = "sk-attack-test-0123456789abcdef";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-attacks-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const bwrap = sandboxAvailable();

function tinySpec(layer: string, runDir: string, kwargs: Record<string, unknown> = {}): RunSpec {
  const spec = stageSpec({ stage: "smoke", layerPath: path.join(ATTACKS, layer), className: "DeltaNet", runDir, layerKwargs: kwargs, timeoutS: 60 });
  return { ...spec, train: { ...spec.train!, steps: 2 } };
}

async function attack(layer: string, name: string, sandbox: SandboxMode, kwargs: Record<string, unknown> = {}): Promise<HarnessRun> {
  const runDir = path.join(tmp, name);
  return runHarness(tinySpec(layer, runDir, kwargs), { runDir, sandbox, onWarning: () => {} });
}

function stored(run: HarnessRun): string {
  return fs.readFileSync(run.resultPath, "utf8") + fs.readFileSync(run.logPath, "utf8");
}

describe("forged results are recorded as failed, never ok", () => {
  for (const sandbox of ["none", ...(bwrap ? ["bwrap"] : [])] as SandboxMode[]) {
    it(`forged result.json + forged report frame + os._exit(0) (sandbox ${sandbox})`, async () => {
      const run = await attack("forged_result.py", `forged-${sandbox}`, sandbox);
      expect(run.result.status).toBe("failed");
      expect(run.result.error?.message).toMatch(/without a report|no outputs/);
      expect(run.result.metrics).toEqual({});
      expect(run.result.tokens_per_s).toBeNull();
      expect(JSON.parse(fs.readFileSync(run.resultPath, "utf8")).status).toBe("failed"); // the file on disk too
    });

    it(`monkeypatched result writer and channel, then raise (sandbox ${sandbox})`, async () => {
      const run = await attack("patched_writer.py", `patched-${sandbox}`, sandbox);
      expect(run.result.status).not.toBe("ok");
      expect(run.result.metrics).toEqual({});
      expect(run.result.tokens_per_s).toBeNull();
    });
  }
});

describe("causality is checked under the evaluation's own conditions", () => {
  it("a layer causal only in float64 passes the probe stage but is rejected at evaluation", async () => {
    const layer = path.join(ATTACKS, "causal_only_in_float64.py");
    const probeDir = path.join(tmp, "f64-probe");
    const probe = await runHarness(stageSpec({ stage: "probe", layerPath: layer, className: "DeltaNet", runDir: probeDir }), { runDir: probeDir, onWarning: () => {} });
    expect(probe.result.probes?.causality?.passed).toBe(true);
    const run = await attack("causal_only_in_float64.py", "f64-smoke", "auto");
    expect(run.result.status).toBe("rejected");
    expect(run.result.error?.kind).toBe("noncausal");
    expect(run.result.eval_causality?.passed).toBe(false);
    expect(run.result.error?.message).toMatch(/at evaluation, the logits at position \d+ .* differ between the prefix alone and the full sequence/);
  });
});

describe.runIf(bwrap)("escapes fail inside the sandbox", () => {
  let run: HarnessRun;
  let outcomes: Record<string, string>;
  const received: string[] = [];
  const servers: (net.Server)[] = [];
  const paths = {
    secret_file: path.join(tmp, "host-secret.txt"),
    proc_root_target: path.join(PROJECT_ROOT, "experiments", "harness", "pwned-by-candidate.txt"),
    unix_socket: path.join(tmp, "host.sock"),
    abstract_socket: `archlab-attack-${process.pid}`,
  };
  const listen = (server: net.Server, where: number | string) =>
    new Promise<void>((resolve) => (typeof where === "number" ? server.listen(where, "127.0.0.1", resolve) : server.listen(where, resolve)));

  beforeAll(async () => {
    fs.writeFileSync(paths.secret_file, "HOST-SECRET-CONTENT");
    for (const where of [0, paths.unix_socket, "\0" + paths.abstract_socket]) {
      const server = net.createServer((socket) => socket.on("data", (d) => received.push(String(d))));
      await listen(server, where);
      servers.push(server);
    }
    const port = (servers[0]!.address() as net.AddressInfo).port;
    const runDir = path.join(tmp, "escape");
    process.env.OPENAI_API_KEY = KEY;
    try {
      run = await runHarness(tinySpec("escape.py", runDir, { ...paths, loopback_port: port, survivor_file: path.join(runDir, "work", "alive") }),
        { runDir, sandbox: "bwrap" });
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
    const json = /ATTACKS (\{.*\})/.exec(run.result.error?.message ?? "")?.[1];
    outcomes = JSON.parse(json ?? "{}");
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((r) => server.close(r));
    fs.rmSync(paths.proc_root_target, { force: true });
  });

  it("ran sandboxed and reported every attempt", () => {
    expect(run.sandboxed).toBe(true);
    expect(run.result.sandboxed).toBe(true);
    expect(Object.keys(outcomes).sort()).toEqual(["abstract", "capeff", "environ", "host_read", "loopback", "proc_root", "setns", "survivor", "unix"]);
  });
  it("/proc/<ancestor>/environ does not reveal OPENAI_API_KEY, and the key is nowhere in what is stored", () => {
    expect(outcomes.environ).toBe("none");
    expect(stored(run)).not.toContain(KEY);
  });
  it("a host file outside the bound paths cannot be read", () => {
    expect(outcomes.host_read).toBe("blocked");
    expect(stored(run)).not.toContain("HOST-SECRET-CONTENT");
  });
  it("writes through /proc/<pid>/root do not reach the host", () => {
    expect(outcomes.proc_root).toBe("blocked");
    expect(fs.existsSync(paths.proc_root_target)).toBe(false);
  });
  it("no loopback TCP connection to a server on the host's 127.0.0.1", () => {
    expect(outcomes.loopback).toBe("blocked");
    expect(received).toEqual([]);
  });
  it("setns into another network namespace is impossible (only its own pid namespace is visible)", () => {
    expect(outcomes.setns).toBe("blocked after entering 0 net namespaces");
    expect(received).toEqual([]);
  });
  it("no Unix socket connection, by path or abstract name", () => {
    expect(outcomes.unix).toBe("blocked");
    expect(outcomes.abstract).toBe("blocked");
    expect(received).toEqual([]);
  });
  it("every capability is dropped", () => {
    expect(outcomes.capeff).toBe("0000000000000000");
  });
  it("a detached child (start_new_session) does not outlive the run", async () => {
    expect(outcomes.survivor).toBe("started");
    const alive = path.join(tmp, "escape", "work", "alive");
    const size = fs.existsSync(alive) ? fs.statSync(alive).size : 0;
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.existsSync(alive) ? fs.statSync(alive).size : 0).toBe(size);
  });
});

describe("secrets are redacted from what an unsandboxed run stores", () => {
  it("a candidate that reads the key from /proc/<ancestor>/environ leaves only [redacted] in the result and log", async () => {
    // the key must be in the orchestrator's initial environment (what /proc/<pid>/environ shows): a CLI child
    const out = path.join(tmp, "environ-unsandboxed");
    const kwargs = {
      secret_file: "/nonexistent", proc_root_target: "/nonexistent/x", loopback_port: 9, unix_socket: "/nonexistent.sock",
      // unsandboxed, a detached child is not contained: give it a file it cannot open, so it exits at once
      // instead of outliving the test
      abstract_socket: "none", survivor_file: "/nonexistent/alive",
    };
    const cli = await execa(process.execPath, [CLI, "evaluate", path.join(ATTACKS, "escape.py"), "--sandbox", "none", "--json", "--out", out, "--kwargs", JSON.stringify(kwargs)],
      { reject: false, env: { OPENAI_API_KEY: KEY }, cwd: tmp });
    const result = JSON.parse(cli.stdout);
    expect(result.sandboxed).toBe(false);
    expect(result.error.message).toMatch(/found OPENAI_API_KEY=\[redacted\]/); // it did read it: unsandboxed, nothing is contained
    expect(cli.stdout + cli.stderr).not.toContain(KEY);
    expect(fs.readFileSync(path.join(out, "result.json"), "utf8") + fs.readFileSync(path.join(out, "harness.log"), "utf8")).not.toContain(KEY);
  });
});

describe("fail closed without bubblewrap (PATH without bwrap)", () => {
  // node and git on PATH, bwrap not
  const bin = path.join(tmp, "bin-without-bwrap");
  fs.mkdirSync(bin, { recursive: true });
  for (const tool of ["node", "git"]) {
    const found = ["/usr/local/bin", "/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f));
    if (found && !fs.existsSync(path.join(bin, tool))) fs.symlinkSync(found, path.join(bin, tool));
  }
  const noBwrap = { PATH: bin, HOME: tmp };
  const cli = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [CLI, ...args], { reject: false, env: { ...noBwrap, ...env }, extendEnv: false, cwd: tmp });

  it("`--sandbox bwrap` refuses with one line", async () => {
    const out = await cli(["evaluate", path.join(PROJECT_ROOT, "test", "fixtures", "layers", "tiny_causal.py"), "--sandbox", "bwrap"]);
    expect(out.exitCode).toBe(2);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr).toMatch(/install bubblewrap .* `sandbox: none`/);
  });

  it("auto refuses a campaign with LLM agents (LLM-written code) with one line, before running anything", async () => {
    const file = path.join(tmp, "llm-campaign.yaml");
    fs.writeFileSync(file, `llm:\n  model: gpt-test\n  base_url: http://127.0.0.1:9/v1\narchive: ${path.join(tmp, "llm-archive")}\nbudget:\n  experiments: 1\n`);
    const out = await cli(["run", file], { OPENAI_API_KEY: "sk-test" });
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr).toMatch(/refusing to run LLM-written code without a sandbox: install bubblewrap .* `sandbox: none`/);
    expect(out.exitCode).toBe(2);
  });

  it("auto runs hand-written code unsandboxed with a warning and records sandboxed: false", async () => {
    const out = await cli(["evaluate", path.join(PROJECT_ROOT, "test", "fixtures", "layers", "tiny_causal.py"), "--json", "--out", path.join(tmp, "unsandboxed")]);
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toMatch(/warning: bubblewrap is not available: candidate code runs unsandboxed/);
    const result = JSON.parse(out.stdout);
    expect(result.status).toBe("ok");
    expect(result.sandboxed).toBe(false);
  });
});
