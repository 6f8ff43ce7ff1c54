/** `archlab ls`: the archive's experiments as a table (or JSON): id, name, parent, status, fitness, key numbers. */
import { Command, Option } from "commander";
import { ExperimentStatus } from "../contracts/experiment.ts";
import { DEFAULT_ARCHIVE_DIR, SORT_KEYS, withArchive, type SortKey } from "../archive/archive.ts";
import { fmt, keyNumbers, table, truncate, whyStopped, writeOut } from "./present.ts";
import { positiveInt } from "./flags.ts";

interface LsOptions {
  archive: string;
  json?: boolean;
  sort: SortKey;
  limit?: string;
  status?: ExperimentStatus;
  campaign?: string;
}

export function registerLs(program: Command): void {
  program
    .command("ls")
    .description("list the archive's experiments: fitness, parent, probe/proxy numbers, why rejected or failed")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .addOption(new Option("--sort <key>", "fitness (best first; unscored after, newest first), created (newest first), name, id").choices(SORT_KEYS).default("fitness"))
    .option("--limit <n>", "show at most n experiments")
    .addOption(new Option("--status <status>", "only experiments with this status").choices(ExperimentStatus.options))
    .option("--campaign <id>", "only this campaign's experiments")
    .option("--json", "print the experiment records as a JSON array")
    .action(async (opts: LsOptions) => {
      const limit = opts.limit === undefined ? undefined : positiveInt(opts.limit, "--limit");
      await withArchive(opts.archive, { mode: "read" }, (archive) => {
        const rows = archive.leaderboard({ sortBy: opts.sort, limit, status: opts.status, campaign: opts.campaign, scoredOnly: false });
        if (opts.json) {
          writeOut(JSON.stringify(rows, null, 2));
          return;
        }
        if (rows.length === 0) {
          writeOut(archive.count() === 0 ? `no experiments in ${opts.archive}` : "no experiments match");
          return;
        }
        const body = rows.map((e) => {
          const k = keyNumbers(e);
          return [
            e.id, truncate(e.name, 32), e.parentId ?? "-", e.status, fmt(e.fitness?.value), fmt(k.loss), fmt(k.benchmark),
            k.probesTotal === null ? "-" : `${k.probesPassed}/${k.probesTotal}`, truncate(whyStopped(e), 80),
          ];
        });
        const total = archive.count();
        const footer = rows.length < total ? `\n${rows.length} of ${total} experiments` : "";
        writeOut(table(["id", "name", "parent", "status", "fitness", "loss", "bench", "probes", "reason"], body) + footer);
      });
    });
}

