/** archlab's command line: one file per command; this file wires them and maps errors to exit codes. */
import { Command, CommanderError } from "commander";
import { fileUserError, UserError } from "../errors.ts";

const program = new Command("archlab")
  .description("Autonomous architecture search for linear-attention layers")
  // One line per mistake (commander's own "error: ..."), not the whole help after it; --help shows usage.
  .exitOverride();

// Each command's module, by the top-level name(s) it registers, in `archlab --help`'s order. Only the module of
// the command being run is loaded (a command's imports, e.g. `run`'s whole loop, cost a second or more of every
// other command's start); help, an unknown command or no command loads them all.
type Register = (program: Command) => void;
const COMMANDS: [string[], () => Promise<Register>][] = [
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
const named = process.argv[2];
const one = COMMANDS.find(([names]) => named !== undefined && names.includes(named));
for (const [, load] of one ? [one] : COMMANDS) (await load())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof UserError || fileUserError(err, "cannot proceed")) {
    const user = err instanceof UserError ? err : fileUserError(err, "cannot proceed")!;
    process.stderr.write(`archlab: ${user.message}\n`);
    process.exitCode = user.exitCode;
  } else {
    throw err;
  }
}
