// `archlab serve`'s API over real HTTP on a real archive: every endpoint, the token, the XSS probe set coming
// back as inert JSON, traversal attempts, live events from a writer in another handle.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../archive/archive.ts";
import { syntheticExperiment } from "../archive/fixtures.ts";
import { UserError } from "../errors.ts";
import { startServer, type RunningServer } from "./server.ts";
import { buildXssArchive, XSS_ID, XSS_PROBES } from "./testing/xssArchive.ts";

let dir: string;
let server: RunningServer;
const get = async (p: string, headers: Record<string, string> = {}) => {
  const res = await fetch(server.url + p, { headers });
  return { status: res.status, type: res.headers.get("content-type") ?? "", csp: res.headers.get("content-security-policy"), body: await res.text() };
};
const json = async (p: string) => {
  const r = await get(p);
  expect(r.status, `${p}: ${r.body}`).toBe(200);
  expect(r.type).toMatch(/^application\/json/);
  return JSON.parse(r.body);
};
const post = (body: unknown, token: string | null = server.token) => fetch(`${server.url}/api/steering`, {
  method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
});
/** A request with a raw path and Host header (fetch normalises both). */
function raw(pathname: string, host?: string): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: pathname, headers: host ? { host } : {} }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-serve-")), "archive");
  await buildXssArchive(dir);
  server = await startServer({ archive: dir, port: 0 });
});
afterAll(async () => {
  await server?.close();
});

describe("archlab serve API", () => {
  it("serves the UI with a strict CSP and only its own assets", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.csp).toMatch(/script-src 'self'/);
    expect(page.body).toMatch(/<script src="\/assets\/app.js">/);
    expect(page.body).not.toMatch(/https?:\/\//); // nothing from a CDN
    expect((await get("/assets/uPlot.js")).body.length).toBeGreaterThan(10_000);
    expect((await get("/assets/app.js")).type).toMatch(/javascript/);
  });

  it("overview, leaderboard sorted, filtered, searched and paged", async () => {
    const overview = await json("/api/overview");
    expect(overview.experiments).toBe(5);
    expect(overview.campaigns.map((c: { id: string }) => c.id)).toEqual(["c000001"]);
    const byFitness = await json("/api/leaderboard");
    const scored = byFitness.rows.filter((r: { fitness: number | null }) => r.fitness !== null).map((r: { fitness: number }) => r.fitness);
    expect(scored).toEqual([...scored].sort((a: number, b: number) => b - a));
    expect(byFitness.rows.at(-1).fitness).toBeNull(); // the rejected one, last
    expect((await json("/api/leaderboard?sort=name&order=asc")).rows.map((r: { name: string }) => r.name).slice(0, 2)).toEqual(["delta-gate", "delta-x2"]);
    expect((await json("/api/leaderboard?status=rejected")).rows.map((r: { id: string }) => r.id)).toEqual(["e000004"]);
    expect((await json("/api/leaderboard?q=doubling")).rows.map((r: { id: string }) => r.id)).toEqual(["e000002"]); // its motivation
    expect((await json("/api/leaderboard?q=SEED-DELTA")).rows.map((r: { id: string }) => r.id)).toEqual(["e000001"]); // its name
    const page = await json("/api/leaderboard?sort=id&limit=2&offset=2");
    expect(page.total).toBe(5);
    expect(page.rows.map((r: { id: string }) => r.id)).toEqual(["e000003", "e000004"]);
    const metric = await json("/api/leaderboard?sort=metric:mqar&order=desc&proposer=mutation&rung=proxy");
    expect(metric.rows.every((r: { proposer: string; rung: string }) => r.proposer === "mutation" && r.rung === "proxy")).toBe(true);
    expect(metric.metricKeys).toContain("mqar");
  });

  it("a candidate in full: texts, code, diff vs parent, probes, costs, provenance, notes", async () => {
    const d = await json("/api/experiments/e000002");
    expect(d.experiment.name).toBe("delta-x2");
    expect(d.texts.motivation).toBe("Doubling the output should help.");
    expect(Object.keys(d.texts)).toEqual(["motivation", "analysis", "experience"]);
    expect(d.code).toMatch(/return x \* 2/);
    expect(d.diff).toMatch(/^-\s+return x$/m);
    expect(d.diff).toMatch(/^\+\s+return x \* 2$/m);
    expect(d.parent).toEqual({ id: "e000001", name: "seed-delta", fitness: expect.any(Number) });
    expect(d.probes.probe.causality.passed).toBe(true);
    expect(d.provenance.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(d.notes[0].text).toBe("look at this one");
    expect(d.experiment.costs).toMatchObject({ cpuSeconds: 97.7 });
    expect((await json("/api/experiments/e000002/diff/e000001")).diff).toBe(d.diff);
  });

  it("lineage a level at a time, with child counts; the path to a node", async () => {
    const roots = await json("/api/lineage");
    expect(roots.nodes.map((n: { id: string; children: number }) => [n.id, n.children])).toEqual([["e000001", 2]]);
    const level = await json("/api/lineage?parent=e000002");
    expect(level.nodes.map((n: { id: string }) => n.id)).toEqual(["e000004", XSS_ID]);
    expect(level.nodes[0]).not.toHaveProperty("code");
    expect((await json(`/api/lineage/path/${XSS_ID}`)).path).toEqual(["e000001", "e000002", XSS_ID]);
  });

  it("campaign ledger and in-flight experiments; compare", async () => {
    const c = await json("/api/campaigns/c000001");
    expect(c.campaign.name).toBe("test");
    expect(c.spent.experiments).toBe(5);
    expect(c.inFlight).toEqual([]);
    const cmp = await json("/api/compare?ids=e000001,e000002,e000003");
    expect(cmp.experiments.map((e: { id: string }) => e.id)).toEqual(["e000001", "e000002", "e000003"]);
    expect(cmp.diffs[0].diff).toMatch(/return x \* 2/);
    expect((await get("/api/compare?ids=e000001")).status).toBe(400);
    expect((await get("/api/campaigns/nope")).status).toBe(404);
  });

  it("returns the XSS probe set verbatim as JSON data, never as markup", async () => {
    const r = await get(`/api/experiments/${XSS_ID}`);
    expect(r.type).toMatch(/^application\/json/);
    const d = JSON.parse(r.body);
    for (const probe of XSS_PROBES) expect(d.texts.motivation).toContain(probe);
    expect(d.experiment.name).toBe(`x${XSS_PROBES[1]}`);
    expect(d.code).toContain(XSS_PROBES[0]);
    expect(d.steering[0].who).toContain("<b>");
    expect(r.csp).toMatch(/default-src 'none'/);
    // error messages echo ids as JSON strings too
    const bad = await get(`/api/experiments/${encodeURIComponent("<script>")}`);
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/^application\/json/);
  });

  it.each([
    "/api/experiments/..%2F..%2Fpackage.json", "/api/experiments/%2e%2e", "/api/experiments/e000001%00",
    "/assets/..%2F..%2Fpackage.json", "/assets/%2e%2e%2fapp.js", "/assets/../../package.json", "/assets/index.html",
    "/api/lineage?parent=../x", "/api/lineage/path/..%2Fdb.json", "/src/ui/app.js", "/node_modules/uplot/package.json", "/db.json",
  ])("refuses traversal: %s", async (p) => {
    const r = await raw(p);
    expect([400, 404]).toContain(r.status);
    expect(r.body).not.toMatch(/"name":\s*"archlab"|"schema":\s*"archlab.archive|use strict/);
  });

  it("needs the token for writes; checks the Host header", async () => {
    const body = { action: "pin", experimentId: "e000003", why: "best so far" };
    expect((await post(body, null)).status).toBe(401);
    expect((await post(body, "x".repeat(server.token.length))).status).toBe(401);
    expect((await post({ action: "pin", experimentId: "../e1" })).status).toBe(400);
    expect((await post({ action: "launch" })).status).toBe(400);
    const missing = await post({ action: "veto", experimentId: "e999999" });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error).toMatch(/no experiment e999999/);
    const ok = await post(body);
    expect(ok.status).toBe(200);
    expect((await ok.json()).record).toMatchObject({ action: "pin", experimentId: "e000003", who: "ui (browser)", why: "best so far" });
    await expect.poll(async () => (await json("/api/leaderboard")).rows[0].id, { timeout: 3000 }).toBe("e000003"); // pinned first
    expect((await json("/api/steering")).log.map((r: { action: string }) => r.action)).toEqual(["note", "pin"]);
    expect((await raw("/api/overview", "evil.example:80")).status).toBe(421);
  });

  it("refuses a non-loopback bind without a token; asks for the token there on reads too", async () => {
    await expect(startServer({ archive: dir, host: "0.0.0.0", port: 0 })).rejects.toThrow(UserError);
    const open = await startServer({ archive: dir, host: "0.0.0.0", port: 0, token: "t".repeat(24) });
    try {
      const port = new URL(open.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/api/overview`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/api/overview`, { headers: { Authorization: `Bearer ${"t".repeat(24)}` } })).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it("streams the writer's changes as server-sent events from the journal", async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/events`, { signal: controller.signal });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    const until = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${re}: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await until(/event: hello/);
    const writer = await Archive.open(dir, { mode: "write", warn: () => {} });
    try {
      await writer.insertExperiment(syntheticExperiment(6, "e000003", { id: "e000006", name: "live-one", status: "training", fitness: null }));
      await until(/event: experiment\ndata: .*"id":"e000006"/);
      fs.mkdirSync(path.join(dir, "runs", "e000006", "live"), { recursive: true });
      fs.appendFileSync(path.join(dir, "runs", "e000006", "live", "progress.jsonl"), '{"at":"t","stage":"proxy","step":7,"total_steps":30,"loss":3.5}\n');
      await until(/event: progress\ndata: .*"step":7/);
      expect((await json("/api/campaigns/c000001")).inFlight.map((r: { id: string; progress: { step: number } }) => [r.id, r.progress?.step])).toEqual([["e000006", 7]]);
      await writer.updateExperiment("e000006", { status: "done" });
      await until(/"id":"e000006"[^\n]*"status":"done"/);
    } finally {
      await writer.close();
      controller.abort();
    }
    expect((await json("/api/experiments/e000006")).experiment.status).toBe("done"); // details re-read after the change
  });
});
