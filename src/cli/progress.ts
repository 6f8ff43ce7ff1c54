/**
 * What a campaign shows while it runs. On a TTY: one progress bar per slot (cli-progress), each with its run's
 * stage, step/total, loss, tokens/s and ETA, and a footer with the best so far; other messages print above the
 * bars. Otherwise (CI, pipes) plain lines: one per stage change, one per tenth of each run, one per finished
 * experiment.
 */
import cliProgress, { type SingleBar } from "cli-progress";
import type { Experiment } from "../contracts/experiment.ts";
import { EarlyStopRecord } from "../contracts/ladder.ts";
import type { CampaignEvent } from "../campaign/campaign.ts";
import { formatEarlyStop } from "./format.ts";
import { decile, runLine, runText, track, type RunView } from "./runProgress.ts";

interface Slot {
  view: RunView;
  bar?: SingleBar;
  /** Plain output: the last tenth of the run printed. */
  printed?: number;
}

export function progressView(out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): { onEvent: (e: CampaignEvent) => void; close: () => void } {
  const tty = Boolean(out.isTTY);
  const slots = new Map<number, Slot>();
  const byId = new Map<string, number>();
  let best: Experiment | null = null;
  let done = 0;
  let endpointDown = false;
  const footerText = () => `${done} finished · best ${best ? `${best.id} ${best.name} fitness ${best.fitness!.value.toFixed(3)}` : "-"}`;

  // TTY: the bars; the footer is a bar too, drawn as its text alone.
  let bars: cliProgress.MultiBar | null = null;
  let footer: SingleBar | null = null;
  const ensureBars = () => {
    if (bars) return bars;
    bars = new cliProgress.MultiBar({
      stream: out, hideCursor: true, clearOnComplete: true, stopOnComplete: false, linewrap: false, fps: 10, barsize: 20,
      format: (options, params, payload: { slot?: number; text?: () => string }) =>
        payload.slot === undefined ? `  ${payload.text?.() ?? ""}` : `  [${payload.slot}] ${cliProgress.Format.BarFormat(params.progress, options)} ${payload.text?.() ?? ""}`,
    }, cliProgress.Presets.shades_classic);
    return bars;
  };
  /** A slot's bar, the footer kept last (bars draw in creation order). */
  const addBar = (number: number, slot: Slot) => {
    const multi = ensureBars();
    if (footer) multi.remove(footer);
    slot.bar = multi.create(1, 0, { slot: number, text: () => runLine(slot.view) });
    footer = multi.create(1, 0, { text: footerText });
  };
  const line = (text: string) => {
    if (bars) bars.log(`${text}\n`);
    else out.write(`${text}\n`);
  };
  const redraw = (slot?: Slot) => {
    if (!tty) return;
    if (slot?.bar) slot.bar.update(slot.view.step ?? 0);
    footer?.update(0);
  };

  const onEvent = (e: CampaignEvent) => {
    switch (e.type) {
      case "start":
        line(`campaign ${e.campaign.id}${e.resumed ? ` (resuming ${e.resumed} unfinished)` : ""}`);
        break;
      case "baseline":
        line(`baseline${e.rung === "proxy" ? "" : ` on ${e.rung}`} ${e.cached ? "(cached)" : "trained"}: ${Object.entries(e.metrics).filter(([k]) => !k.includes(":")).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(" · ")}`);
        break;
      case "stage": {
        const known = slots.get(e.slot);
        const slot: Slot = known?.view.id === e.id ? known : { view: { id: e.id, name: e.name, stage: e.stage } };
        slot.view.stage = e.stage;
        if (known?.bar && known !== slot) bars?.remove(known.bar);
        slots.set(e.slot, slot);
        byId.set(e.id, e.slot);
        if (tty) {
          if (!slot.bar) addBar(e.slot, slot);
          redraw(slot);
        } else out.write(`${e.id} ${e.name}: ${e.stage}\n`);
        break;
      }
      case "progress": {
        const at = byId.get(e.id);
        const slot = at === undefined ? undefined : slots.get(at);
        if (!slot) break;
        track(slot.view, e.event, now());
        if (e.event.event === "start") slot.printed = undefined;
        if (e.event.event === "stopped_early") {
          const { event: _kind, ...fields } = e.event;
          const evidence = EarlyStopRecord.safeParse(fields);
          if (evidence.success) line(`${e.id} ${slot.view.name}: ${formatEarlyStop(evidence.data)}`);
        }
        if (e.event.event !== "step") break;
        if (tty) {
          slot.bar?.setTotal(Math.max(1, e.event.total_steps));
          redraw(slot);
        } else {
          const tenth = decile(e.event);
          if (tenth !== null && tenth !== slot.printed) {
            slot.printed = tenth;
            out.write(`${e.id} ${slot.view.name}: ${runText(slot.view)}\n`);
          }
        }
        break;
      }
      case "finished": {
        done += 1;
        const x = e.experiment;
        if (x.fitness && (!best || x.fitness.value > best.fitness!.value)) best = x;
        const at = byId.get(x.id);
        const slot = at === undefined ? undefined : slots.get(at);
        if (at !== undefined && slot?.view.id === x.id) {
          if (slot.bar) bars?.remove(slot.bar);
          slots.delete(at);
        }
        redraw();
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
      case "promotion":
        line(`${e.id} ${e.name}: ${e.decision.promoted ? "promoted" : "not promoted"} ${e.decision.from} → ${e.decision.to} (${e.decision.reasons.join("; ")})`);
        break;
      case "rung":
        line(`${e.id} ${e.name}: ${e.result.rung} ${e.result.status}${e.result.fitness ? ` fitness ${e.result.fitness.value.toFixed(3)} (${e.result.verdict} vs its baseline)` : ""}`);
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
  const close = () => {
    bars?.update(); // prints what log() buffered since the last redraw
    bars?.stop();
  };
  return { onEvent, close };
}

