/**
 * One writer per archive (DESIGN §6). proper-lockfile makes `writer.lock/` (an atomic mkdir) and refreshes its
 * mtime; the owner then writes `writer.json` beside it: pid, host, boot id, the process's start time, and when
 * it took the lock. Another writer that finds the lock reads that file: a live owner -> LockedError ("archive
 * <path> is locked by pid N since T", exit 3); a dead one (no such pid, a pid reused by another process, or a
 * different boot) -> the lock is taken over with a warning. Staleness is decided by the owner's pid, not the
 * mtime, so a busy or suspended writer never loses its lock. proper-lockfile releases the lock on process
 * exit and on signals it handles (signal-exit); a leftover writer.json is harmless (only read while the lock
 * exists). Readers never touch any of this.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import lockfile from "proper-lockfile";
import { z } from "zod";
import { LockedError } from "../errors.ts";
import { writeFileAtomicSync } from "../atomic.ts";

export const LOCK_DIR = "writer.lock";
export const OWNER_FILE = "writer.json";

export const WriterInfo = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  bootId: z.string().nullable(),
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), where there is /proc. */
  processStart: z.string().nullable(),
  startedAt: z.string(),
  command: z.string(),
});
export type WriterInfo = z.infer<typeof WriterInfo>;

export interface LockOptions {
  warn: (message: string) => void;
  now?: () => Date;
}

export class WriterLock {
  readonly #dir: string;
  readonly #release: () => Promise<void>;
  readonly info: WriterInfo;
  #lost: Error | null = null;
  #released = false;

  private constructor(dir: string, release: () => Promise<void>, info: WriterInfo) {
    this.#dir = dir;
    this.#release = release;
    this.info = info;
  }

  /** Takes the archive's writer lock, or throws LockedError naming the live owner. */
  static async acquire(dir: string, opts: LockOptions): Promise<WriterLock> {
    const lockPath = path.join(dir, LOCK_DIR);
    const ownerPath = path.join(dir, OWNER_FILE);
    let holder: WriterLock | undefined;
    const onCompromised = (err: Error) => {
      if (holder) holder.#lost = err;
    };
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        const release = await lockfile.lock(dir, {
          lockfilePath: lockPath,
          realpath: false,
          retries: 0,
          // Never stale by mtime: the owner's pid decides (below). The mtime refresh still detects a takeover.
          stale: 7 * 24 * 3600 * 1000,
          update: 10_000,
          onCompromised,
        });
        const info = currentWriter(opts.now?.() ?? new Date());
        writeFileAtomicSync(ownerPath, JSON.stringify(info, null, 2) + "\n");
        holder = new WriterLock(dir, release, info);
        return holder;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
      }
      const owner = readOwner(ownerPath);
      if (owner === null) {
        // The owner is between mkdir and writing writer.json, or died there: give it a moment, then take over.
        if (ageMs(lockPath) < 2000) {
          await sleep(50);
          continue;
        }
        opts.warn(`archive ${dir}: taking over a writer lock with no owner record (${lockPath})`);
        removeLockDir(lockPath);
        continue;
      }
      if (isAlive(owner)) throw lockedError(dir, owner);
      // Dead owner. Re-read after a pause so a writer that has just taken the lock is not mistaken for it.
      await sleep(100);
      const again = readOwner(ownerPath);
      if (again === null || JSON.stringify(again) !== JSON.stringify(owner)) continue;
      opts.warn(
        `archive ${dir}: taking over a stale writer lock from pid ${owner.pid} (started ${owner.startedAt}), which is no longer running`,
      );
      removeLockDir(lockPath);
    }
    throw new LockedError(`archive ${dir} is locked: could not take the writer lock (${lockPath})`);
  }

  /** Set when another process removed or replaced the lock while this one held it. */
  get lost(): Error | null {
    return this.#lost;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const ownerPath = path.join(this.#dir, OWNER_FILE);
    const owner = readOwner(ownerPath);
    if (owner && owner.pid === this.info.pid && owner.startedAt === this.info.startedAt) fs.rmSync(ownerPath, { force: true });
    if (!this.#lost) await this.#release();
  }
}

/** Who holds the archive's writer lock now, if anyone (for status lines; never blocks). */
export function lockOwner(dir: string): WriterInfo | null {
  if (!fs.existsSync(path.join(dir, LOCK_DIR))) return null;
  const owner = readOwner(path.join(dir, OWNER_FILE));
  return owner && isAlive(owner) ? owner : null;
}

function lockedError(dir: string, owner: WriterInfo): LockedError {
  const where = owner.host === os.hostname() ? "" : ` on ${owner.host}`;
  return new LockedError(`archive ${dir} is locked by pid ${owner.pid}${where} since ${owner.startedAt}`);
}

function currentWriter(now: Date): WriterInfo {
  return {
    pid: process.pid,
    host: os.hostname(),
    bootId: bootId(),
    processStart: processStart(process.pid),
    startedAt: now.toISOString(),
    command: process.argv.slice(1).join(" ").slice(0, 500),
  };
}

function readOwner(file: string): WriterInfo | null {
  try {
    const parsed = WriterInfo.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Whether the recorded owner still runs. Another host's owner cannot be checked and counts as alive (the
 * message names the host; remove writer.lock/ by hand once it is surely gone).
 */
export function isAlive(owner: WriterInfo): boolean {
  if (owner.host !== os.hostname()) return true;
  const boot = bootId();
  if (owner.bootId && boot && owner.bootId !== boot) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(owner.pid);
  if (stat === null) return true; // no /proc: the pid exists, trust it
  if (stat.state === "Z") return false;
  return owner.processStart === null || owner.processStart === stat.start;
}

function bootId(): string | null {
  try {
    return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return null;
  }
}

function processStart(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

function procStat(pid: number): { state: string; start: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) state ppid ..." — comm may contain spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const start = fields[19]; // field 22 overall
  return state && start ? { state, start } : null;
}

function ageMs(target: string): number {
  try {
    return Date.now() - fs.statSync(target).mtimeMs;
  } catch {
    return 0;
  }
}

function removeLockDir(lockPath: string): void {
  fs.rmSync(lockPath, { recursive: true, force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
