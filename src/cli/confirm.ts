/**
 * `archlab confirm <id...>`: re-train finished candidates on fresh seeds against the baseline on the same
 * seeds and record the verdict (`confirmed better` / `not confirmed` / `confirmed worse`) on each experiment.
 */
import path from "node:path";
import { Command } from "commander";
import { Archive, DEFAULT_ARCHIVE_DIR } from "../archive/archive.ts";
import { formatConfirmation, writeOut } from "./present.ts";
import { CONFIRM_STAGES, confirmExperiment } from "../campaign/confirm.ts";
import type { Confirmation } from "../contracts/confirmation.ts";
import { UserError } from "../errors.ts";

interface ConfirmOptions {
  archive: string;
  seeds: string;
  stage: string;
  json?: boolean;
}

export function registerConfirm(program: Command): void {
  program
    .command("confirm")
    .description("re-train candidates on fresh seeds against the baseline on the same seeds; record the verdict")
    .argument("<id...>", "experiment ids, e.g. e000042 e000043")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--seeds <n>", "fresh seeds to train on", "3")
    .option("--stage <name>", `stage to re-train (${CONFIRM_STAGES.join(", ")})`, "proxy")
    .option("--json", "print the confirmations as JSON")
    .action(async (ids: string[], opts: ConfirmOptions) => {
      const seeds = Number(opts.seeds);
      if (!Number.isInteger(seeds) || seeds < 1 || seeds > 100) throw new UserError(`--seeds must be an integer from 1 to 100, not "${opts.seeds}"`);
      const dir = path.resolve(opts.archive);
      // Every id is checked before anything trains; a missing archive is not created.
      const reader = await Archive.open(dir, { mode: "read" });
      try {
        for (const id of ids) reader.requireExperiment(id);
      } finally {
        await reader.close();
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const archive = await Archive.open(dir, { mode: "write" });
      const out: Record<string, Confirmation> = {};
      try {
        for (const id of ids) {
          const c = await confirmExperiment(archive, id, {
            seeds, stage: opts.stage, signal: controller.signal,
            onRun: (what, seed) => process.stderr.write(`${id}: training ${what} on fresh seed ${seed}\n`),
          });
          out[id] = c;
          if (!opts.json) writeOut(formatConfirmation(id, c));
        }
      } finally {
        await archive.close();
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      if (opts.json) writeOut(JSON.stringify(out, null, 2));
    });
}
