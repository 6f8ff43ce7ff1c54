/** The table main.ts wires the command line from (src/cli/commands.test.ts checks it against every command module). */
import type { Command } from "commander";

// Each command's module, by the top-level name(s) it registers, in `archlab --help`'s order. Only the module of
// the command being run is loaded (a command's imports, e.g. `run`'s whole loop, cost a second or more of every
// other command's start); help, an unknown command or no command loads them all.
export type Register = (program: Command) => void;
export const COMMANDS: [string[], () => Promise<Register>][] = [
  [["evaluate"], async () => (await import("./evaluate.ts")).registerEvaluate],
  [["ls"], async () => (await import("./ls.ts")).registerLs],
  [["show"], async () => (await import("./show.ts")).registerShow],
  [["diff"], async () => (await import("./diff.ts")).registerDiff],
  [["lineage"], async () => (await import("./lineage.ts")).registerLineage],
  [["export"], async () => (await import("./export.ts")).registerExport],
  [["import"], async () => (await import("./import.ts")).registerImport],
  [["run"], async () => (await import("./run.ts")).registerRun],
  [["cognition"], async () => (await import("./cognition.ts")).registerCognition],
  [["schedule"], async () => (await import("./schedule.ts")).registerSchedule],
  [["report"], async () => (await import("./report.ts")).registerReport],
  [["data"], async () => (await import("./data.ts")).registerData],
  [["confirm"], async () => (await import("./confirm.ts")).registerConfirm],
  [["pause", "resume", "veto", "pin", "unpin", "note", "steering"], async () => (await import("./steer.ts")).registerSteering],
  [["serve"], async () => (await import("./serve.ts")).registerServe],
];
