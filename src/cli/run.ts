/** `archlab run [campaign.yaml]`: a discovery campaign on the archive, resumable, locked and budgeted. */
import { Command, Option } from "commander";
import { loadCampaign, type RunFlags } from "../campaign/config.ts";
import { runCampaign } from "../campaign/campaign.ts";
import { progressView } from "./progress.ts";
import { positiveInt, positiveNumber, seedCount } from "./flags.ts";
import { stoppable } from "./signals.ts";
import { DEFAULT_ARCHIVE_DIR } from "../archive/archive.ts";
import { claimedWin } from "../analyst/confirm.ts";
import { PROXY_PRESETS, type ProxyPreset } from "../runner/stages.ts";
import { Notifier } from "../report/notify.ts";
import { earlySavedLine, savedByEarlyStop } from "../report/summary.ts";
import { resolveDevices } from "../runner/devices.ts";
import { measuredPeaks, stageNeedMb } from "../runner/gpuPool.ts";

interface RunOptions {
  budget?: string;
  until?: string;
  maxHours?: string;
  archive?: string;
  parallel?: string;
  devices?: string;
  preset?: ProxyPreset;
  llmModel?: string;
  maxDollars?: string;
  confirm?: string;
  confirmSeeds?: string;
  sandbox?: "auto" | "bwrap" | "none";
  json?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run a discovery campaign: propose, implement, probe, train, analyse and archive experiments")
    .argument("[campaign]", "campaign YAML file (defaults apply without one)")
    .option("--budget <n>", "experiments to run in this campaign")
    .option("--until <HH:MM>", "stop starting experiments at this local time")
    .option("--max-hours <h>", "stop starting experiments after this many hours")
    .option("--archive <dir>", `archive directory (default ${DEFAULT_ARCHIVE_DIR})`)
    .option("--parallel <k>", "experiments in flight at once on CPU")
    .option("--devices <list>", "cpu, cuda:0,cuda:1,... (one experiment per GPU), or auto (the GPUs nvidia-smi lists; CPU without)")
    .addOption(new Option("--preset <name>", "proxy-stage preset").choices(PROXY_PRESETS))
    .option("--llm-model <model>", "use LLM agents with this model (key from $OPENAI_API_KEY, endpoint from $OPENAI_BASE_URL)")
    .option("--max-dollars <d>", "stop the campaign cleanly once its LLM calls cost this much (budget.llm_dollars)")
    .option("--confirm <n>", "at the end, re-train the best n candidates that beat the baseline on fresh seeds (0: none; confirm.top, default 3)")
    .option("--confirm-seeds <n>", "fresh seeds per confirmation (confirm.seeds, default 3)")
    .addOption(new Option("--sandbox <mode>", "auto: bubblewrap when it works (LLM-written code never without); bwrap: required; none: opt out").choices(["auto", "bwrap", "none"]))
    .option("--json", "print the finished experiments as JSON on stdout")
    .action(async (file: string | undefined, opts: RunOptions) => {
      const flags: RunFlags = {
        budget: int(opts.budget, "--budget"),
        until: opts.until,
        maxHours: num(opts.maxHours, "--max-hours"),
        archive: opts.archive,
        parallel: int(opts.parallel, "--parallel"),
        devices: opts.devices,
        preset: opts.preset,
        llmModel: opts.llmModel,
        maxDollars: num(opts.maxDollars, "--max-dollars"),
        confirmTop: opts.confirm === "0" ? 0 : int(opts.confirm, "--confirm"),
        confirmSeeds: opts.confirmSeeds === undefined ? undefined : seedCount(opts.confirmSeeds, "--confirm-seeds"),
        sandbox: opts.sandbox,
      };
      const loaded = loadCampaign(file, flags);
      // devices: auto sizes the GPU pool by the memory this archive's runs of these stages measured
      const pool = { needMb: stageNeedMb(measuredPeaks(loaded.archive, [...new Set(loaded.stages.map((r) => r.stage))])), maxPerGpu: loaded.parallel };
      const config = { ...loaded, devices: await resolveDevices(loaded.devices, (l) => process.stderr.write(`${l}\n`), pool) };
      if (!config.llm && process.env.OPENAI_API_KEY) {
        process.stderr.write("archlab: OPENAI_API_KEY is set, but the campaign has no llm: section; running offline (pass --llm-model MODEL for LLM agents)\n");
      }
      const view = progressView();
      const notifier = config.notify ? new Notifier(config.notify, config.archive) : null;
      try {
        await stoppable("unfinished experiments resume on the next run", async (stop) => {
          const outcome = await runCampaign({
            config, signal: stop.signal,
            onEvent: (e) => {
              view.onEvent(e);
              notifier?.onEvent(e);
            },
          });
          await notifier?.settle();
          if (opts.json) process.stdout.write(JSON.stringify(outcome, null, 2) + "\n");
          else {
            // A discovery is a confirmed win (analyst/confirm.ts claimedWin), never a single-seed fitness.
            const held = outcome.confirmed.filter((c) => claimedWin(c)).length;
            const confirmed = outcome.confirmed.length ? ` ${held} discover${held === 1 ? "y" : "ies"}: ${held} of ${outcome.confirmed.length} candidates beyond the noise band confirmed better on fresh seeds (\`archlab ls --confirmed\`).` : "";
            const early = earlySavedLine(savedByEarlyStop(outcome.finished));
            process.stdout.write(`${outcome.finished.length} experiments finished; ${outcome.stopReason}.${confirmed}${early ? ` ${early[0]!.toUpperCase()}${early.slice(1)}.` : ""} See \`archlab ls${config.archive === DEFAULT_ARCHIVE_DIR ? "" : ` --archive ${config.archive}`}\`.\n`);
          }
          // A stuck run exits 1 (a stopped one 128 + the signal's number: stoppable).
          if (outcome.blocked && !stop.by) {
            process.stderr.write(`archlab: ${outcome.stopReason}\n`);
            process.exitCode = 1;
          }
        });
      } finally {
        notifier?.close();
        view.close();
      }
    });
}

const int = (text: string | undefined, flag: string) => (text === undefined ? undefined : positiveInt(text, flag));
const num = (text: string | undefined, flag: string) => (text === undefined ? undefined : positiveNumber(text, flag));
