/**
 * One steering request, checked against the archive and appended to its steering journal: what the CLI
 * commands and the server's write endpoints both call. Needs only a read-only archive (no writer lock).
 */
import os from "node:os";
import type { NewSteeringAction, SteeringAction } from "../contracts/steering.ts";
import type { Archive } from "../archive/archive.ts";
import { UserError } from "../errors.ts";
import { GENES } from "../contracts/genome.ts";
import { appendSteering, readSteering } from "./journal.ts";
import { foldSteering, parseRules } from "./state.ts";

export type SteeringArchive = Pick<Archive, "dir" | "getExperiment" | "campaigns">;

/** The default author of a CLI request: the login name. */
export function defaultWho(): string {
  try {
    return process.env.USER || os.userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}

/** Validates the request (experiment and campaign exist, note rules name real genes and values), then appends it. */
export function steer(archive: SteeringArchive, input: NewSteeringAction, now: Date = new Date()): SteeringAction {
  if ("experimentId" in input && input.experimentId !== null && !archive.getExperiment(input.experimentId)) {
    throw new UserError(`no experiment ${input.experimentId} in archive ${archive.dir}`);
  }
  if ("campaign" in input && input.campaign !== null) {
    const campaigns = archive.campaigns();
    if (!campaigns.some((c) => c.id === input.campaign || c.name === input.campaign)) {
      const known = [...new Set(campaigns.map((c) => c.name))].join(", ") || "none yet";
      throw new UserError(`no campaign ${input.campaign} in archive ${archive.dir} (campaigns: ${known})`);
    }
  }
  if (input.action === "note") {
    if (input.experimentId !== null && input.campaign !== null) throw new UserError("a note is on an experiment or on a campaign, not both");
    if (!input.text.trim()) throw new UserError("a note needs some text");
    for (const rule of parseRules(input.text)) {
      const values = (GENES as Record<string, readonly unknown[]>)[rule.gene];
      if (!values) throw new UserError(`note: unknown gene ${rule.gene} in "${rule.kind} ${rule.gene}=${rule.value}" (genes: ${Object.keys(GENES).join(", ")})`);
      if (!values.some((v) => String(v) === rule.value)) {
        throw new UserError(`note: ${rule.gene} has no value ${rule.value} (values: ${values.join(", ")})`);
      }
    }
  }
  if (input.action === "unpin" && !foldSteering(readSteering(archive.dir)).pinned.has(input.experimentId)) {
    throw new UserError(`${input.experimentId} is not pinned`);
  }
  return appendSteering(archive.dir, input, now);
}
