/**
 * What the steering journal means now: pure folds over its records, oldest first. Pause and resume: the
 * latest record naming a campaign (by name or id) decides, else the latest global one; a veto is final;
 * pin/unpin: the latest wins; notes accumulate. Structured notes carry rules for the offline proposer:
 * lines `prefer gene=value` / `avoid gene=value` (gene names as in researcher/genome.ts; `state_update` is
 * an alias of `update`).
 */
import type { SteeringAction } from "../contracts/steering.ts";

type Of<K extends SteeringAction["action"]> = Extract<SteeringAction, { action: K }>;
export type NoteAction = Of<"note">;

export interface CampaignRef {
  id: string;
  name: string;
}

export interface SteeringState {
  /** Every record, oldest first (the audit trail the UI shows). */
  log: readonly SteeringAction[];
  vetoed: ReadonlyMap<string, Of<"veto">>;
  /** Pinned experiments, in pin order, with the pin record. */
  pinned: ReadonlyMap<string, Of<"pin">>;
  notes: readonly NoteAction[];
  /** The latest global pause/resume, and the latest per named campaign. */
  global: Of<"pause"> | Of<"resume"> | null;
  perCampaign: ReadonlyMap<string, Of<"pause"> | Of<"resume">>;
}

export function foldSteering(records: readonly SteeringAction[]): SteeringState {
  const vetoed = new Map<string, Of<"veto">>();
  const pinned = new Map<string, Of<"pin">>();
  const notes: NoteAction[] = [];
  let global: Of<"pause"> | Of<"resume"> | null = null;
  const perCampaign = new Map<string, Of<"pause"> | Of<"resume">>();
  for (const r of records) {
    switch (r.action) {
      case "pause":
      case "resume":
        if (r.campaign === null) {
          global = r;
          perCampaign.clear();
        } else perCampaign.set(r.campaign, r);
        break;
      case "veto":
        if (!vetoed.has(r.experimentId)) vetoed.set(r.experimentId, r);
        break;
      case "pin":
        pinned.delete(r.experimentId);
        pinned.set(r.experimentId, r);
        break;
      case "unpin":
        pinned.delete(r.experimentId);
        break;
      case "note":
        notes.push(r);
        break;
    }
  }
  return { log: records, vetoed, pinned, notes, global, perCampaign };
}

/** The pause record that holds this campaign, or null when it may start experiments. */
export function pausedBy(state: SteeringState, campaign: CampaignRef): Of<"pause"> | null {
  const byId = state.perCampaign.get(campaign.id);
  const byName = state.perCampaign.get(campaign.name);
  const local = byId && byName ? (byId.at >= byName.at ? byId : byName) : byId ?? byName;
  const decisive = local ?? state.global;
  return decisive?.action === "pause" ? decisive : null;
}

/** Notes that concern this campaign: global ones, ones naming it, and notes on experiments. */
export function notesFor(state: SteeringState, campaign: CampaignRef): NoteAction[] {
  return state.notes.filter((n) => n.campaign === null || n.campaign === campaign.id || n.campaign === campaign.name);
}

export interface GeneRule {
  kind: "prefer" | "avoid";
  gene: string;
  value: string;
  /** The note it came from. */
  noteId: string;
}

const GENE_ALIASES: Record<string, string> = { state_update: "update", update_rule: "update" };
const RULE = /^\s*(prefer|avoid)\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([A-Za-z0-9_.-]+)\s*$/;

/** The structured rules in a note's text, one per line; other lines are free text (for the LLM only). */
export function parseRules(text: string, noteId = ""): GeneRule[] {
  const rules: GeneRule[] = [];
  for (const line of text.split(/\r?\n|;/)) {
    const m = RULE.exec(line);
    if (m) rules.push({ kind: m[1] as GeneRule["kind"], gene: GENE_ALIASES[m[2]!] ?? m[2]!, value: m[3]!, noteId });
  }
  return rules;
}

/** Every rule from these notes, later notes overriding earlier ones on the same gene=value. */
export function rulesOf(notes: readonly NoteAction[]): GeneRule[] {
  const byKey = new Map<string, GeneRule>();
  for (const n of notes) for (const r of parseRules(n.text, n.id)) {
    byKey.delete(`${r.gene}=${r.value}`);
    byKey.set(`${r.gene}=${r.value}`, r);
  }
  return [...byKey.values()];
}
