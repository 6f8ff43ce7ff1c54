/** `archlab schedule add|ls|rm`: nightly campaigns through the user's crontab (src/schedule/). */
import type { Command } from "commander";
import { UserError } from "../errors.ts";
import { addSchedule, listSchedules, removeSchedule } from "../schedule/schedule.ts";

const fmt = (d: Date) => d.toLocaleString("sv-SE", { hour12: false }).slice(0, 16);

export function registerSchedule(program: Command): void {
  const schedule = program.command("schedule").description("start campaigns from cron: add, ls, rm (edits your crontab through `crontab`)");
  schedule
    .command("add")
    .description("install a crontab line that runs the campaign; each run logs to <archive>/logs/<date>.log")
    .argument("<campaign>", "campaign YAML file")
    .requiredOption("--cron <expr>", 'when to start, five cron fields, e.g. "0 22 * * *"')
    .option("--until <HH:MM>", "stop starting experiments at this local time")
    .option("--user <name>", "edit this user's crontab (crontab -u; root only)")
    .action(async (campaign: string, opts: { cron: string; until?: string; user?: string }) => {
      if (opts.until !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(opts.until)) throw new UserError(`--until must be HH:MM (24-hour), not "${opts.until}"`);
      const { entry, next } = await addSchedule({ campaign, cron: opts.cron, until: opts.until, user: opts.user });
      process.stdout.write(`added ${entry.id}: ${entry.cron} ${entry.campaign}${entry.until ? ` until ${entry.until}` : ""}\n`);
      process.stdout.write(`next runs: ${next.map(fmt).join(", ")}\n`);
    });
  schedule
    .command("ls")
    .description("list archlab's crontab entries with their next runs")
    .option("--user <name>", "read this user's crontab (root only)")
    .option("--json", "as JSON")
    .action(async (opts: { user?: string; json?: boolean }) => {
      const rows = await listSchedules({ user: opts.user });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows.map(({ entry, next }) => ({ ...entry, next: next.map((d) => d.toISOString()) })), null, 2) + "\n");
        return;
      }
      if (!rows.length) {
        process.stdout.write("no archlab schedules (add one with `archlab schedule add <campaign.yaml> --cron \"0 22 * * *\"`)\n");
        return;
      }
      for (const { entry, next } of rows) {
        process.stdout.write(`${entry.id}\t${entry.cron}\t${entry.campaign}${entry.until ? `\tuntil ${entry.until}` : ""}\tnext ${next.map(fmt).join(", ")}\n`);
      }
    });
  schedule
    .command("rm")
    .description("remove one archlab entry; every other crontab line is left as it was")
    .argument("<id>", "the entry's id (see `archlab schedule ls`)")
    .option("--user <name>", "edit this user's crontab (root only)")
    .action(async (id: string, opts: { user?: string }) => {
      await removeSchedule(id, { user: opts.user });
      process.stdout.write(`removed ${id}\n`);
    });
}
