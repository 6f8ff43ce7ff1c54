import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockedError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { Archive } from "./archive.ts";
import { LOCK_DIR, lockOwner, OWNER_FILE } from "./lock.ts";

let dir: string;
let holder: ResultPromise | undefined;

/** A real second process holding the writer lock. */
async function holdInChild(): Promise<{ pid: number; child: ResultPromise }> {
  const child = execa("node", ["--import", "tsx", path.join(PROJECT_ROOT, "src/archive/testing/holdWriter.ts"), dir], {
    cwd: PROJECT_ROOT, reject: false, buffer: false, stdin: "ignore", stderr: "inherit",
  });
  holder = child;
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    child.on("exit", (code) => reject(new Error(`holder exited early (${code})`)));
  });
  return { pid: (JSON.parse(line) as { pid: number }).pid, child };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-lock-"));
});

afterEach(async () => {
  if (holder && holder.exitCode === null) {
    holder.kill("SIGKILL");
    await holder;
  }
  holder = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("writer lock", () => {
  it("refuses a second writer while another process holds it; readers are not blocked", async () => {
    const { pid } = await holdInChild();
    const attempt = Archive.open(dir, { mode: "write", warn: () => {} });
    await expect(attempt).rejects.toThrow(LockedError);
    await expect(Archive.open(dir, { mode: "write" })).rejects.toThrow(
      new RegExp(`^archive ${dir} is locked by pid ${pid} since \\d{4}-\\d\\d-\\d\\dT`),
    );
    const err = await Archive.open(dir, { mode: "write" }).catch((e: LockedError) => e);
    expect((err as LockedError).exitCode).toBe(3);
    expect(lockOwner(dir)?.pid).toBe(pid);

    const started = Date.now();
    const reader = await Archive.open(dir, { mode: "read" });
    expect(reader.count()).toBe(0);
    await reader.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("takes over a lock whose owner was killed with SIGKILL, with a warning", async () => {
    const { pid, child } = await holdInChild();
    child.kill("SIGKILL");
    await child;
    expect(fs.existsSync(path.join(dir, LOCK_DIR))).toBe(true); // nothing cleaned up after kill -9
    const warnings: string[] = [];
    const archive = await Archive.open(dir, { mode: "write", warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringContaining(`taking over a stale writer lock from pid ${pid}`)]);
    expect(archive.writer?.pid).toBe(process.pid);
    await archive.close();
    expect(fs.existsSync(path.join(dir, LOCK_DIR))).toBe(false);
    expect(fs.existsSync(path.join(dir, OWNER_FILE))).toBe(false);
  });

  it("is released when the owner is stopped by SIGTERM", async () => {
    const { child } = await holdInChild();
    child.kill("SIGTERM");
    await child;
    expect(fs.existsSync(path.join(dir, LOCK_DIR))).toBe(false);
    const warnings: string[] = [];
    const archive = await Archive.open(dir, { mode: "write", warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    await archive.close();
  });

  it("refuses a second writer in the same process and frees the lock on close", async () => {
    const first = await Archive.open(dir, { mode: "write" });
    await expect(Archive.open(dir, { mode: "write" })).rejects.toThrow(`is locked by pid ${process.pid}`);
    await first.close();
    const second = await Archive.open(dir, { mode: "write" });
    await second.close();
  });

  it("treats an owner record whose pid now belongs to another process as stale", async () => {
    const first = await Archive.open(dir, { mode: "write" });
    // Forge the record: our own (live) pid, but a different process start time, as after pid reuse.
    const owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8"));
    fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ ...owner, processStart: "1" }));
    const warnings: string[] = [];
    const second = await Archive.open(dir, { mode: "write", warn: (m) => warnings.push(m) });
    expect(warnings[0]).toMatch(/taking over a stale writer lock/);
    await second.close();
    await first.close().catch(() => {});
  }, 30_000);
});
