/** `archlab import asi-arch <file> [--programs FILE]`: ASI-Arch's tree.json / 106.json into an archive. */
import path from "node:path";
import { Command } from "commander";
import { DEFAULT_ARCHIVE_DIR, withArchive } from "../archive/archive.ts";
import { importAsiArch, mergeNodes, readAsiArchFile } from "../archive/importAsiArch.ts";

interface ImportOptions {
  archive: string;
  programs?: string;
}

export function registerImport(program: Command): void {
  const command = program.command("import").description("import outside search results into an archive");
  command
    .command("asi-arch")
    .description("ASI-Arch's tree.json (index, parent, score) and/or 106.json programs (code, motivation, results)")
    .argument("<file>", "tree.json, or a 106.json-style list of programs")
    .option("--programs <file>", "106.json-style programs to attach to the tree's nodes by index")
    .option("--archive <dir>", "archive directory (created if missing)", DEFAULT_ARCHIVE_DIR)
    .action(async (file: string, opts: ImportOptions) => {
      const main = readAsiArchFile(file);
      const extra = opts.programs ? readAsiArchFile(opts.programs) : null;
      const nodes = extra ? mergeNodes(main.nodes, extra.nodes) : main.nodes;
      const source = {
        source: "asi-arch",
        file: path.resolve(file),
        format: main.format,
        ...(opts.programs && { programs: path.resolve(opts.programs) }),
      };
      const summary = await withArchive(opts.archive, { mode: "write" }, (archive) => importAsiArch(archive, nodes, source));
      process.stdout.write(
        `imported ${summary.added} experiments (${summary.withCode} with code) into ${opts.archive} as campaign ${summary.campaign}` +
          (summary.skipped ? `; ${summary.skipped} already there` : "") + "\n",
      );
    });
}
