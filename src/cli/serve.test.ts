// `archlab serve` as a user runs it: prints the URL with the token, serves, stops on SIGTERM; refuses a
// non-loopback host without a token and a missing archive with one line each.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../paths.ts";
import { buildSampleArchive } from "../archive/testing/sampleArchive.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");

describe("archlab serve", () => {
  it("prints its URL and token, serves the archive, stops cleanly on SIGTERM", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-serve-cli-")), "archive");
    await buildSampleArchive(dir);
    const child = execa("node", [CLI, "serve", "--archive", dir, "--port", "0"], { reject: false });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => { out += d; if (/write token: /.test(out)) resolve(); });
      child.on("exit", () => reject(new Error(`serve exited: ${out}`)));
    });
    const [, url, token] = /at (http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]+)/.exec(out)!;
    const overview = await (await fetch(`${url}/api/overview`)).json();
    expect(overview.experiments).toBe(4);
    const res = await fetch(`${url}/api/steering`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ action: "pause" }) });
    expect(res.status).toBe(200);
    expect((await res.json()).record.campaign).toBeNull();
    child.kill("SIGTERM");
    expect((await child).exitCode).toBe(0);
  });

  it.each([
    [["--host", "0.0.0.0"], /^archlab: refusing to serve on 0\.0\.0\.0 without a token: pass --token/],
    [["--port", "99999"], /^archlab: --port must be 0-65535/],
    [["--token", "short"], /^archlab: the token must be at least 16 characters$/],
  ])("refuses %j with one line", async (args, message) => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-serve-cli-")), "archive");
    await buildSampleArchive(dir);
    const r = await execa("node", [CLI, "serve", "--archive", dir, ...args], { reject: false, timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  });

  it("refuses a missing archive with one line", async () => {
    const r = await execa("node", [CLI, "serve", "--archive", "/nonexistent/archive"], { reject: false, timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^archlab: no archive at \/nonexistent\/archive/);
  });
});
