/**
 * Steering commands (issue 16): pause, resume, veto, pin, unpin, note, and `steering` to list what was asked.
 * Each appends one record to the archive's steering journal (src/steering/) without the writer lock, so it
 * works while a campaign runs; the campaign notices within a second and obeys.
 */
import { Command } from "commander";
import type { NewSteeringAction, SteeringAction } from "../contracts/steering.ts";
import { DEFAULT_ARCHIVE_DIR, withArchive } from "../archive/archive.ts";
import { table, truncate, writeOut } from "../cli/present.ts";
import { UserError } from "../errors.ts";
import { readSteering } from "../steering/journal.ts";
import { defaultWho, steer } from "../steering/steer.ts";

interface SteerOptions {
  archive: string;
  why?: string;
  who?: string;
}

const EFFECT: Record<SteeringAction["action"], (r: SteeringAction) => string> = {
  pause: (r) => `paused ${target(r)}: experiments in flight finish, nothing new starts until \`archlab resume\``,
  resume: (r) => `resumed ${target(r)}`,
  veto: (r) => `vetoed ${target(r)}: a running campaign stops it and never samples it as parent or reference`,
  pin: (r) => `pinned ${target(r)}: preferred parent, shown first to the researcher`,
  unpin: (r) => `unpinned ${target(r)}`,
  note: (r) => `noted on ${target(r)}: the next proposals read it`,
};

function target(r: SteeringAction): string {
  if ("experimentId" in r && r.experimentId) return r.experimentId;
  if ("campaign" in r) return r.campaign ? `campaign ${r.campaign}` : "every campaign";
  return "-";
}

async function record(opts: SteerOptions, build: (base: { who: string; why: string | null }) => NewSteeringAction): Promise<void> {
  await withArchive(opts.archive, { mode: "read" }, (archive) => {
    const r = steer(archive, build({ who: opts.who ?? defaultWho(), why: opts.why ?? null }));
    writeOut(`${EFFECT[r.action](r)} (${r.id}, by ${r.who})`);
  });
}

const common = (cmd: Command) => cmd
  .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
  .option("--why <text>", "why (recorded with the action)")
  .option("--who <name>", "who asks (default: $USER)");

export function registerSteering(program: Command): void {
  common(program.command("pause").description("pause a running campaign (or all): in-flight experiments finish, nothing new starts")
    .argument("[campaign]", "campaign name or id (default: every campaign on the archive)"))
    .action((campaign: string | undefined, opts: SteerOptions) => record(opts, (b) => ({ ...b, action: "pause", campaign: campaign ?? null })));
  common(program.command("resume").description("resume a paused campaign (or all)")
    .argument("[campaign]", "campaign name or id (default: every campaign)"))
    .action((campaign: string | undefined, opts: SteerOptions) => record(opts, (b) => ({ ...b, action: "resume", campaign: campaign ?? null })));
  common(program.command("veto").description("veto an experiment: a running one is stopped; never a parent or reference")
    .argument("<id>", "experiment id"))
    .action((id: string, opts: SteerOptions) => record(opts, (b) => ({ ...b, action: "veto", experimentId: id })));
  common(program.command("pin").description("pin an experiment: a preferred parent, shown first to the researcher")
    .argument("<id>", "experiment id"))
    .action((id: string, opts: SteerOptions) => record(opts, (b) => ({ ...b, action: "pin", experimentId: id })));
  common(program.command("unpin").description("unpin an experiment").argument("<id>", "experiment id"))
    .action((id: string, opts: SteerOptions) => record(opts, (b) => ({ ...b, action: "unpin", experimentId: id })));
  common(program.command("note")
    .description("a note the next proposals read; lines `prefer gene=value` / `avoid gene=value` steer the offline proposer")
    .argument("<args...>", "[experiment-id] \"text\"")
    .option("--campaign <name>", "on a campaign (name or id) instead of an experiment"))
    .action((args: string[], opts: SteerOptions & { campaign?: string }) => {
      if (args.length > 2) throw new UserError(`note takes [experiment-id] "text" (quote the text), got ${args.length} arguments`);
      const [experimentId, text] = args.length === 2 ? [args[0]!, args[1]!] : [null, args[0]!];
      if (experimentId && opts.campaign) throw new UserError("a note is on an experiment or on a campaign (--campaign), not both");
      return record(opts, (b) => ({ ...b, action: "note", text, experimentId, campaign: opts.campaign ?? null }));
    });
  program.command("steering").description("list the steering actions recorded on the archive (who, when, what, why)")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--json", "print the records as JSON")
    .action(async (opts: { archive: string; json?: boolean }) => {
      await withArchive(opts.archive, { mode: "read" }, () => {
        const log = readSteering(opts.archive);
        if (opts.json) return writeOut(JSON.stringify(log, null, 2));
        if (!log.length) return writeOut("no steering actions recorded");
        writeOut(table(["id", "at", "who", "action", "on", "text / why"], log.map((r) => [
          r.id, r.at, r.who, r.action, target(r), truncate(r.action === "note" ? r.text : r.why ?? "", 80),
        ])));
      });
    });
}
