/**
 * The ladder's pure policies: whether a candidate climbs a rung (promote) and whether a run in flight is stopped
 * early (earlyStop). No I/O; every decision carries its reason and evidence so the archive can show it.
 */
import type { EarlyStopEvidence, EarlyStopRule, PromotionRule } from "../contracts/ladder.ts";

/** A verdict against the rung's baseline from the noise-aware comparison (part 1); null when there is none. */
export type BaselineVerdict = "better" | "worse" | "within noise" | null;

export interface RungEntry {
  id: string;
  /** null: the run failed or was stopped, it ranks below every finished one. */
  fitness: number | null;
  verdict: BaselineVerdict;
}

export interface Promotion {
  promote: boolean;
  /** One line per condition checked, in rule order: "top 0.25: rank 2 of 8 (needs ≤ 2): pass". */
  reasons: string[];
}

/** Whether `candidateId` climbs, judged against `rung`: every result on the rung so far, itself included. */
export function promote(rule: PromotionRule, rung: readonly RungEntry[], candidateId: string): Promotion {
  const me = rung.find((e) => e.id === candidateId);
  if (!me) throw new Error(`promote: ${candidateId} is not on the rung`);
  if (me.fitness === null || !Number.isFinite(me.fitness)) return { promote: false, reasons: ["no fitness on this rung: fail"] };
  const fitness = me.fitness;
  const checks: Array<[string, boolean]> = [];
  if (rule.top !== undefined) {
    const scored = rung.filter((e) => e.fitness !== null && Number.isFinite(e.fitness));
    const rank = 1 + scored.filter((e) => e.fitness! > fitness).length; // ties share the better rank
    const allowed = Math.max(1, Math.ceil(rule.top * rung.length));
    checks.push([`top ${rule.top}: rank ${rank} of ${rung.length} (needs ≤ ${allowed})`, rank <= allowed]);
  }
  if (rule.beats_baseline) {
    checks.push([`beats baseline: verdict ${me.verdict ?? "none"} (needs better)`, me.verdict === "better"]);
  }
  if (rule.min_fitness !== undefined) {
    checks.push([`min fitness ${rule.min_fitness}: ${round(fitness)}`, fitness >= rule.min_fitness]);
  }
  if (checks.length === 0) checks.push(["no conditions", true]);
  return { promote: checks.every(([, ok]) => ok), reasons: checks.map(([why, ok]) => `${why}: ${ok ? "pass" : "fail"}`) };
}

export interface CurvePoint {
  step: number;
  loss: number;
}

export type { EarlyStopEvidence };

/** The baseline's loss at `step`, interpolated; null outside its curve. */
export function lossAt(curve: readonly CurvePoint[], step: number): number | null {
  if (curve.length === 0 || step < curve[0]!.step || step > curve.at(-1)!.step) return null;
  for (let i = 0; i < curve.length; i++) {
    const b = curve[i]!;
    if (b.step === step) return b.loss;
    if (b.step > step) {
      const a = curve[i - 1]!;
      return a.loss + ((b.loss - a.loss) * (step - a.step)) / (b.step - a.step);
    }
  }
  return null;
}

/** Stop the run whose `curve` (so far) trails the baseline's by more than the margin past the warm-up, or null. */
export function earlyStop(rule: EarlyStopRule, curve: readonly CurvePoint[], baseline: readonly CurvePoint[], totalSteps: number): EarlyStopEvidence | null {
  const last = curve.at(-1);
  if (!last || last.step < rule.warmup_fraction * totalSteps || last.step >= totalSteps) return null;
  const recent = curve.slice(-rule.window);
  const loss = recent.reduce((s, p) => s + p.loss, 0) / recent.length;
  const baselineLoss = lossAt(baseline, last.step);
  if (baselineLoss === null) return null;
  // a non-finite loss never stops a run here: the harness already fails it
  if (!Number.isFinite(loss) || loss <= baselineLoss * (1 + rule.margin)) return null;
  return { step: last.step, loss: round(loss), baseline_loss: round(baselineLoss), margin: rule.margin, steps_saved: totalSteps - last.step };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The confirmation's say in a climb: every climb runs one (when the rule passed); it decides only under beats_baseline. */
export type ConfirmationOutcome = "confirmed better" | "not confirmed" | "confirmed worse" | null;

/**
 * The final promotion: the rule's (promote above), then the confirmation on fresh seeds that ran because the rule
 * passed. Under `beats_baseline` only "confirmed better" climbs; otherwise the confirmation is recorded, not decisive.
 */
export function withConfirmation(rule: PromotionRule, promotion: Promotion, confirmation: ConfirmationOutcome): Promotion {
  if (!promotion.promote) return promotion;
  const seen = confirmation ?? "none";
  if (rule.beats_baseline) {
    const ok = confirmation === "confirmed better";
    return { promote: ok, reasons: [...promotion.reasons, `confirmation on fresh seeds: ${seen} (needs confirmed better): ${ok ? "pass" : "fail"}`] };
  }
  return { promote: true, reasons: [...promotion.reasons, `confirmation on fresh seeds: ${seen} (recorded; the rule does not ask beats_baseline)`] };
}
