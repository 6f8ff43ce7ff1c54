/** `archlab diff <a> <b>`: unified diff of two candidates' code (git's, when both are committed). */
import { Command } from "commander";
import { DEFAULT_ARCHIVE_DIR, withArchive } from "../archive/archive.ts";
import { writeOut } from "./present.ts";

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description("unified diff of two experiments' code (e.g. a parent and its child)")
    .argument("<a>", "experiment id (the old side)")
    .argument("<b>", "experiment id (the new side)")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .action(async (a: string, b: string, opts: { archive: string }) => {
      await withArchive(opts.archive, { mode: "read" }, async (archive) => {
        const diff = await archive.diff(a, b);
        if (diff) writeOut(diff);
        else process.stderr.write(`archlab: ${a} and ${b} have the same code\n`);
      });
    });
}
