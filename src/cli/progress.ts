/**
 * What a campaign shows while it runs: on a TTY a live block (one line per slot: experiment, stage, step and
 * loss; the best so far), redrawn in place; otherwise plain lines, one per stage change and finished experiment.
 */
import type { Experiment } from "../contracts/experiment.ts";
import type { CampaignEvent } from "../campaign/campaign.ts";

interface SlotView {
  id: string;
  name: string;
  stage: string;
  step?: string;
}

export function progressView(out: NodeJS.WriteStream = process.stderr): { onEvent: (e: CampaignEvent) => void; close: () => void } {
  const tty = Boolean(out.isTTY);
  const slots = new Map<number, SlotView>();
  const byId = new Map<string, number>();
  let best: Experiment | null = null;
  let done = 0;
  let drawn = 0;
  let lastDraw = 0;
  let endpointDown = false;

  const line = (text: string) => {
    if (tty) clear();
    out.write(text + "\n");
    if (tty) draw(true);
  };
  const clear = () => {
    if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = (force = false) => {
    if (!tty || (!force && Date.now() - lastDraw < 100)) return;
    lastDraw = Date.now();
    clear();
    const lines = [...slots.entries()].sort(([a], [b]) => a - b)
      .map(([slot, v]) => `  [${slot}] ${v.id} ${v.name.slice(0, 40).padEnd(40)} ${v.stage.padEnd(10)} ${v.step ?? ""}`);
    lines.push(`  ${done} finished · best ${best ? `${best.id} ${best.name} fitness ${best.fitness!.value.toFixed(3)}` : "-"}`);
    out.write(lines.join("\n") + "\n");
    drawn = lines.length;
  };

  const onEvent = (e: CampaignEvent) => {
    switch (e.type) {
      case "start":
        line(`campaign ${e.campaign.id}${e.resumed ? ` (resuming ${e.resumed} unfinished)` : ""}`);
        break;
      case "baseline":
        line(`baseline ${e.cached ? "(cached)" : "trained"}: ${Object.entries(e.metrics).filter(([k]) => !k.includes(":")).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(" · ")}`);
        break;
      case "stage":
        slots.set(e.slot, { id: e.id, name: e.name, stage: e.stage });
        byId.set(e.id, e.slot);
        if (tty) draw(true);
        else out.write(`${e.id} ${e.name}: ${e.stage}\n`);
        break;
      case "progress": {
        const slot = byId.get(e.id);
        const view = slot === undefined ? undefined : slots.get(slot);
        if (view && e.event.event === "step") {
          view.step = `step ${e.event.step}/${e.event.total_steps} loss ${e.event.loss?.toFixed(3) ?? "nan"}`;
          draw();
        }
        break;
      }
      case "finished": {
        done += 1;
        const x = e.experiment;
        const slot = byId.get(x.id);
        if (slot !== undefined) slots.delete(slot);
        if (x.fitness && (!best || x.fitness.value > best.fitness!.value)) best = x;
        line(`${x.id} ${x.name}: ${x.status}${x.fitness ? ` fitness ${x.fitness.value.toFixed(3)}` : ""}${x.reason ? ` (${x.reason})` : ""}`);
        // A dead endpoint is said once on the output, not only recorded on every experiment it touched.
        const down = x.agentFailures?.find((f) => f.kind === "unavailable");
        if (down && !endpointDown) {
          endpointDown = true;
          line(`warning: the LLM endpoint is unavailable (${down.role}: ${down.message}); offline agents stand in, each failure is recorded on its experiment (agentFailures)`);
        }
        break;
      }
      case "rerun":
        line(`${e.id}: within noise above the best (${e.rival}); re-running on seed ${e.seed} before ranking it (one more proxy run, about ${Math.round(e.estimateS)} s)`);
        break;
      case "confirming":
        line(`confirming ${e.ids.join(", ")} on ${e.seeds} fresh seeds: ${e.runs} training runs, about ${Math.round(e.estimateS)} s`);
        break;
      case "confirmed":
        line(`${e.id}: ${e.confirmation.verdict} (${e.confirmation.metrics.filter((m) => e.confirmation.decidedOn.includes(m.metric)).map((m) => `${m.metric} ${m.mean >= 0 ? "+" : ""}${m.mean.toFixed(4)}${m.std === null ? "" : ` ± ${m.std.toFixed(4)}`} ${m.verdict}`).join(", ") || e.confirmation.failure})`);
        break;
      case "not confirming":
        line(`not confirming ${e.ids.join(", ")}: ${e.reason}`);
        break;
      case "steering":
        line(`steering: ${e.action.action} by ${e.action.who}${e.action.why ? ` (${e.action.why})` : ""}: ${e.effect}`);
        break;
      case "stop":
        line(`stopped: ${e.reason}${e.interrupted.length ? `; ${e.interrupted.join(", ")} will resume on the next run` : ""}`);
        break;
    }
  };
  return { onEvent, close: () => (tty ? clear() : undefined) };
}
