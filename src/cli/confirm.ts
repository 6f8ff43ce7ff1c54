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
import { seedCount } from "./flags.ts";
import { stoppable } from "./signals.ts";

interface ConfirmOptions {
  archive: string;
  seeds: string;
  stage?: string;
  json?: boolean;
}

export function registerConfirm(program: Command): void {
  program
    .command("confirm")
    .description("re-train candidates on fresh seeds against the baseline on the same seeds; record the verdict")
    .argument("<id...>", "experiment ids, e.g. e000042 e000043")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--seeds <n>", "fresh seeds to train on", "3")
    .option("--stage <rung>", `rung to re-train, by name or stage (${CONFIRM_STAGES.join(", ")}; default: the campaign's first training rung)`)
    .option("--json", "print the confirmations as JSON")
    .action(async (ids: string[], opts: ConfirmOptions) => {
      const seeds = seedCount(opts.seeds, "--seeds");
      const dir = path.resolve(opts.archive);
      // Every id is checked before anything trains; a missing archive is not created.
      const reader = await Archive.open(dir, { mode: "read" });
      try {
        for (const id of ids) reader.requireExperiment(id);
      } finally {
        await reader.close();
      }
      const out: Record<string, Confirmation> = {};
      await stoppable("confirmations finished so far are recorded; the rest are not", async (stop) => {
        const archive = await Archive.open(dir, { mode: "write" });
        try {
          for (const id of ids) {
            if (stop.by) break;
            const c = await confirmExperiment(archive, id, {
              seeds, stage: opts.stage, signal: stop.signal,
              onRun: (what, seed) => process.stderr.write(`${id}: training ${what} on fresh seed ${seed}\n`),
            });
            out[id] = c;
            if (!opts.json) writeOut(formatConfirmation(id, c));
          }
        } finally {
          await archive.close();
          const left = ids.filter((id) => !out[id]);
          if (stop.by && left.length) process.stderr.write(`archlab: to confirm the rest: archlab confirm ${left.join(" ")} --seeds ${seeds} --archive ${opts.archive}\n`);
        }
      });
      if (opts.json) writeOut(JSON.stringify(out, null, 2));
    });
}
