/** `archlab report [--since 24h] [--format md|json]`: what the archive did in a window (the summary notify sends). */
import { Command, Option } from "commander";
import { DEFAULT_ARCHIVE_DIR, withArchive } from "../archive/archive.ts";
import { parseSince, summarise, summaryMarkdown } from "../report/summary.ts";

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("summarise a window of the archive: experiments by outcome, best new candidates, failures, jobs, costs")
    .option("--since <when>", "a duration back from now (24h, 30m, 7d) or a date; default: all time")
    .addOption(new Option("--format <format>", "md or json").choices(["md", "json"]).default("md"))
    .option("--campaign <id>", "only this campaign")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .action(async (opts: { since?: string; format: "md" | "json"; campaign?: string; archive: string }) => {
      const now = new Date();
      const since = parseSince(opts.since, now);
      const summary = await withArchive(opts.archive, { mode: "read" }, (archive) =>
        summarise({ experiments: archive.experiments(), campaigns: archive.campaigns(), since, now, campaign: opts.campaign }));
      process.stdout.write(opts.format === "json" ? JSON.stringify(summary, null, 2) + "\n" : summaryMarkdown(summary));
    });
}
