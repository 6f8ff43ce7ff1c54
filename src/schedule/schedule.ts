/** The crontab itself, read and written through `crontab` (never its spool files), and the add/ls/rm core. */
import path from "node:path";
import { execa } from "execa";
import { loadCampaign } from "../campaign/config.ts";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { entryLine, freshId, nextRuns, parseEntries, withEntry, withoutEntry, type ScheduleEntry } from "./crontab.ts";

export interface CrontabTarget {
  /** Another user's crontab (crontab -u; root only); the caller's own by default. */
  user?: string;
}

const userArgs = (t: CrontabTarget) => (t.user ? ["-u", t.user] : []);

export async function readCrontab(target: CrontabTarget = {}): Promise<string> {
  const out = await execa("crontab", [...userArgs(target), "-l"], { reject: false, timeout: 30_000, stripFinalNewline: false });
  if (out.exitCode === 0) return out.stdout;
  if (/no crontab for/i.test(out.stderr)) return "";
  if (out.exitCode === undefined) {
    throw new UserError("no `crontab` command: install cron (Debian/Ubuntu: apt-get install cron)");
  }
  throw new UserError(`crontab -l failed: ${out.stderr.trim() || out.exitCode}`);
}

export async function writeCrontab(text: string, target: CrontabTarget = {}): Promise<void> {
  const out = await execa("crontab", [...userArgs(target), "-"], { input: text, reject: false, timeout: 30_000 });
  if (out.exitCode !== 0) throw new UserError(`crontab refused the new table: ${out.stderr.trim() || out.exitCode}`);
}

export interface AddRequest extends CrontabTarget {
  campaign: string;
  cron: string;
  until?: string;
  cwd?: string;
}

/** Installs an entry (the campaign file is validated first) and returns it with its next runs. */
export async function addSchedule(req: AddRequest): Promise<{ entry: ScheduleEntry; next: Date[] }> {
  const next = nextRuns(req.cron, 3);
  const cwd = path.resolve(req.cwd ?? process.cwd());
  const campaign = path.resolve(cwd, req.campaign);
  const config = loadCampaign(campaign, { until: req.until });
  const current = await readCrontab(req);
  const id = freshId(parseEntries(current));
  const line = entryLine({
    id, cron: req.cron.trim(), cwd, node: process.execPath, cli: path.join(PROJECT_ROOT, "bin", "archlab.js"),
    campaign, archive: path.resolve(cwd, config.archive), until: req.until ?? null,
  });
  await writeCrontab(withEntry(current, line), req);
  const entry = parseEntries(await readCrontab(req)).find((e) => e.id === id);
  if (!entry) throw new Error(`crontab did not keep the new line ${id}`);
  return { entry, next };
}

export async function listSchedules(target: CrontabTarget = {}): Promise<{ entry: ScheduleEntry; next: Date[] }[]> {
  return parseEntries(await readCrontab(target)).map((entry) => ({ entry, next: nextRuns(entry.cron, 3) }));
}

export async function removeSchedule(id: string, target: CrontabTarget = {}): Promise<void> {
  await writeCrontab(withoutEntry(await readCrontab(target), id), target);
}
