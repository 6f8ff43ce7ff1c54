/** `archlab ls`: the archive's experiments as a table (or JSON): id, name, parent, status, fitness, key numbers. */
import { Command, Option } from "commander";
import { indistinguishable } from "../analyst/fitness.ts";
import { claimedWin, latestVerdict } from "../analyst/confirm.ts";
import { ExperimentStatus, ladderStanding, type Experiment } from "../contracts/experiment.ts";
import { DEFAULT_ARCHIVE_DIR, SORT_KEYS, withArchive, type SortKey } from "../archive/archive.ts";
import { fmt, keyNumbers, reachedRung, table, truncate, whyStopped, writeOut } from "./present.ts";
import { positiveInt } from "./flags.ts";

interface LsOptions {
  archive: string;
  json?: boolean;
  sort: SortKey;
  limit?: string;
  status?: ExperimentStatus;
  campaign?: string;
  confirmed?: boolean;
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
    .option("--confirmed", "only experiments whose latest confirmation on fresh seeds is \"confirmed better\"")
    .option("--json", "print the experiment records as a JSON array")
    .action(async (opts: LsOptions) => {
      const limit = opts.limit === undefined ? undefined : positiveInt(opts.limit, "--limit");
      await withArchive(opts.archive, { mode: "read" }, (archive) => {
        const board = archive.leaderboard({ sortBy: opts.sort, limit: opts.confirmed ? undefined : limit, status: opts.status, campaign: opts.campaign, scoredOnly: false });
        const rows = opts.confirmed ? board.filter((e) => claimedWin(e.confirmations?.at(-1))).slice(0, limit) : board;
        if (opts.json) {
          writeOut(JSON.stringify(rows, null, 2));
          return;
        }
        if (rows.length === 0) {
          writeOut(archive.count() === 0 ? `no experiments in ${opts.archive}` : "no experiments match");
          return;
        }
        const laddered = rows.some((e) => e.rungs?.length);
        const body = rows.map((e, i) => {
          const k = keyNumbers(e);
          const above = rows[i - 1]?.fitness;
          // ≈ compares first-rung fitnesses: rows ranked by a higher rung's fitness are not marked
          const tied = e.fitness && above && !reachedHigher(e) && !reachedHigher(rows[i - 1]!) && indistinguishable(e.fitness, above) ? "≈" : " ";
          return [
            e.id, truncate(e.name, 32), e.parentId ?? "-", e.status, `${tied}${fmt(e.fitness?.value)}`, e.fitness?.band == null ? "-" : `±${fmt(e.fitness.band, 2)}`,
            ...(laddered ? [rungCell(e)] : []), CONFIRMED_SHORT[latestVerdict(e) ?? "none"], fmt(k.loss), fmt(k.benchmark),
            k.probesTotal === null ? "-" : `${k.probesPassed}/${k.probesTotal}`, truncate(whyStopped(e), 80),
          ];
        });
        const total = archive.count();
        const footer = rows.length < total ? `\n${rows.length} of ${total} experiments` : "";
        const legend = rows.some((e, i) => i > 0 && e.fitness && rows[i - 1]!.fitness && !reachedHigher(e) && !reachedHigher(rows[i - 1]!) && indistinguishable(e.fitness, rows[i - 1]!.fitness!))
          ? "\n≈: fitness within the noise band of the row above (not distinguishable)" : "";
        const ladder = laddered ? "\nrung: the highest ladder rung reached and the fitness there (rows rank by it first); ↑ promoted, ✗ not promoted" : "";
        writeOut(table(["id", "name", "parent", "status", "fitness", "band", ...(laddered ? ["rung"] : []), "confirmed", "loss", "bench", "probes", "reason"], body) + footer + legend + ladder);
      });
    });
}

/** Whether it has a fitness on a rung above the first (it ranks by that one). */
const reachedHigher = (e: Experiment) => (ladderStanding(e.rungs)?.level ?? 0) > 0;

/** "lm 0.1234", or "proxy 0.0312 ✗" when its promotion from there was refused, "↑" while it climbs. */
function rungCell(e: Experiment): string {
  const rung = reachedRung(e);
  if (!rung) return "-";
  const at = e.rungs!.find((r) => r.rung === rung)!;
  const decision = e.promotions?.find((d) => d.from === rung);
  return `${rung} ${fmt(at.fitness?.value)}${decision ? (decision.promoted ? " ↑" : " ✗") : ""}`;
}

const CONFIRMED_SHORT = { "confirmed better": "better", "not confirmed": "not", "confirmed worse": "worse", none: "-" } as const;
