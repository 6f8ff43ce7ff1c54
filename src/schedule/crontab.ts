/**
 * `archlab schedule` (DESIGN §1, the scheduler): campaigns started by cron. An entry is one crontab line that
 * `cd`s to where it was added and runs `archlab run <campaign> [--until HH:MM]`, appending its output to
 * `<archive>/logs/<date>.log`, and ends with a marker comment naming its id. Pure text in, text out: the lines
 * archlab did not write are kept byte for byte. An overlapping start (the previous night still running) exits 3
 * on the archive's writer lock and says so in that night's log.
 */
import { Cron } from "croner";
import { UserError } from "../errors.ts";

export const MARKER = "# archlab-schedule";

export interface ScheduleEntry {
  id: string;
  cron: string;
  campaign: string;
  until: string | null;
  /** The whole crontab line. */
  line: string;
}

/** Validates a five-field cron expression (or @daily...) with croner; its next runs after `from`. */
export function nextRuns(cron: string, count: number, from: Date = new Date()): Date[] {
  const fields = cron.trim().split(/\s+/);
  if (!cron.trim().startsWith("@") && fields.length !== 5) {
    throw new UserError(`--cron "${cron}": crontab takes five fields (minute hour day month weekday), got ${fields.length}`);
  }
  if (/[LW#?]/.test(cron)) throw new UserError(`--cron "${cron}": L, W, # and ? are not understood by cron`);
  let job: Cron;
  try {
    job = new Cron(cron, { paused: true });
  } catch (err) {
    throw new UserError(`--cron "${cron}": ${(err as Error).message}`);
  }
  return job.nextRuns(count, from);
}

export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface LineInput {
  id: string;
  cron: string;
  /** Absolute paths: where archlab is run from, the node binary, bin/archlab.js, the campaign file, the archive. */
  cwd: string;
  node: string;
  cli: string;
  campaign: string;
  archive: string;
  until: string | null;
}

/** The crontab line; `%` is special to cron (a newline), so the date format escapes it. */
export function entryLine(input: LineInput): string {
  const logs = `${input.archive}/logs`;
  const run = [input.node, input.cli, "run", input.campaign, ...(input.until ? ["--until", input.until] : [])].map(shellQuote).join(" ");
  const meta = `id=${input.id} campaign=${encodeURIComponent(input.campaign)}${input.until ? ` until=${input.until}` : ""}`;
  return `${input.cron} cd ${shellQuote(input.cwd)} && mkdir -p ${shellQuote(logs)} && ${run} >> ${shellQuote(logs)}/"$(date +\\%F)".log 2>&1 ${MARKER} ${meta}`;
}

/** archlab's entries among a crontab's lines. */
export function parseEntries(crontab: string): ScheduleEntry[] {
  const entries: ScheduleEntry[] = [];
  for (const line of crontab.split("\n")) {
    const at = line.lastIndexOf(MARKER);
    if (at < 0 || line.trimStart().startsWith("#")) continue;
    const meta = Object.fromEntries(line.slice(at + MARKER.length).trim().split(/\s+/).map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)];
    }));
    if (!meta.id) continue;
    const cron = line.trim().startsWith("@") ? line.trim().split(/\s+/)[0]! : line.trim().split(/\s+/).slice(0, 5).join(" ");
    entries.push({ id: meta.id, cron, campaign: decodeURIComponent(meta.campaign ?? ""), until: meta.until ?? null, line });
  }
  return entries;
}

/** The crontab with `line` appended (a final newline kept: cron ignores a last line without one). */
export function withEntry(crontab: string, line: string): string {
  const body = crontab === "" || crontab.endsWith("\n") ? crontab : `${crontab}\n`;
  return `${body}${line}\n`;
}

/** The crontab without entry `id`; every other line as it was. */
export function withoutEntry(crontab: string, id: string): string {
  const target = parseEntries(crontab).find((e) => e.id === id);
  if (!target) throw new UserError(`no archlab schedule "${id}" in the crontab (see \`archlab schedule ls\`)`);
  const lines = crontab.split("\n");
  lines.splice(lines.indexOf(target.line), 1);
  return lines.join("\n");
}

/** A short id not yet taken: s1, s2, ... */
export function freshId(entries: readonly ScheduleEntry[]): string {
  const taken = new Set(entries.map((e) => e.id));
  for (let n = 1; ; n++) if (!taken.has(`s${n}`)) return `s${n}`;
}
