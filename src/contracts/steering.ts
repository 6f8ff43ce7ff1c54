/**
 * Human steering (DESIGN §10, issue 16): one record per action, appended to the archive's steering journal
 * (`steering.jsonl`) by any process — the CLI, the server — without the writer lock. The campaign (the archive's
 * single writer) reads the journal and obeys; it never rewrites it. Who, when and why are on every record.
 */
import { z } from "zod";

export const STEERING_SCHEMA = "archlab.steering/1";

const base = {
  id: z.string().min(1).max(64),
  at: z.string(),
  /** Who asked: $USER for the CLI, "ui" plus the client for the server. */
  who: z.string().min(1).max(200),
  why: z.string().max(4000).nullable(),
};

/** A campaign's name or id; null = every campaign on this archive. */
const campaignRef = z.string().min(1).max(200).nullable();
const experimentId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "an experiment id (letters, digits, . _ -)");

export const SteeringAction = z.discriminatedUnion("action", [
  z.strictObject({ ...base, action: z.literal("pause"), campaign: campaignRef }),
  z.strictObject({ ...base, action: z.literal("resume"), campaign: campaignRef }),
  z.strictObject({ ...base, action: z.literal("veto"), experimentId }),
  z.strictObject({ ...base, action: z.literal("pin"), experimentId }),
  z.strictObject({ ...base, action: z.literal("unpin"), experimentId }),
  z.strictObject({
    ...base, action: z.literal("note"), text: z.string().min(1).max(4000),
    /** On one experiment, or on a campaign (null: every campaign); at most one of the two is set. */
    experimentId: experimentId.nullable(), campaign: campaignRef,
  }),
]);
export type SteeringAction = z.infer<typeof SteeringAction>;
export type SteeringKind = SteeringAction["action"];
export const STEERING_KINDS = ["pause", "resume", "veto", "pin", "unpin", "note"] as const satisfies readonly SteeringKind[];

/** What a caller gives: the record less its id and time (filled in when appended). */
export type NewSteeringAction = SteeringAction extends infer A ? A extends SteeringAction ? Omit<A, "id" | "at"> : never : never;
