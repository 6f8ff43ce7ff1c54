/** `archlab export --format csv|json [--out FILE]`: the archive's records for spreadsheets and scripts. */
import path from "node:path";
import { Command, Option } from "commander";
import { DEFAULT_ARCHIVE_DIR, withArchive } from "../archive/archive.ts";
import fs from "node:fs";
import { writeFileAtomicSync } from "../atomic.ts";
import { csv, writeOut } from "./present.ts";
import { UserError } from "../errors.ts";

export const EXPORT_SCHEMA = "archlab.export/1";

interface ExportOptions {
  archive: string;
  format: "csv" | "json";
  out?: string;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("export the archive: csv (one row per experiment, stage metrics as columns) or json (all records)")
    .addOption(new Option("--format <format>", "csv or json").choices(["csv", "json"]).default("json"))
    .option("--out <file>", "write here instead of stdout")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .action(async (opts: ExportOptions) => {
      const text = await withArchive(opts.archive, { mode: "read" }, (archive) => {
        const experiments = archive.experiments();
        if (opts.format === "csv") return csv(experiments);
        return JSON.stringify({
          schema: EXPORT_SCHEMA,
          archive: path.resolve(opts.archive),
          experiments,
          campaigns: archive.campaigns(),
          ledger: archive.ledger(),
          notes: archive.notes(),
        }, null, 2) + "\n";
      });
      if (opts.out) {
        const folder = path.dirname(path.resolve(opts.out));
        if (!fs.existsSync(folder)) throw new UserError(`--out ${opts.out}: no such folder ${folder}`);
        if (fs.existsSync(opts.out) && fs.statSync(opts.out).isDirectory()) throw new UserError(`--out ${opts.out} is a folder; give a file name`);
        writeFileAtomicSync(opts.out, text, { mkdir: false });
        process.stderr.write(`archlab: wrote ${opts.out}\n`);
      } else {
        writeOut(text);
      }
    });
}
