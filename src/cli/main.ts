/** archlab's command line: one file per command; this file wires them and maps errors to exit codes. */
import { Command, CommanderError } from "commander";
import { fileUserError, UserError } from "../errors.ts";
import { registerCognition } from "./cognition.ts";
import { registerData } from "./data.ts";
import { registerConfirm } from "./confirm.ts";
import { registerDiff } from "./diff.ts";
import { registerExport } from "./export.ts";
import { registerImport } from "./import.ts";
import { registerLineage } from "./lineage.ts";
import { registerLs } from "./ls.ts";
import { registerShow } from "./show.ts";
import { registerEvaluate } from "./evaluate.ts";
import { registerRun } from "./run.ts";
import { registerSchedule } from "./schedule.ts";
import { registerReport } from "./report.ts";
import { registerServe } from "./serve.ts";
import { registerSteering } from "./steer.ts";

const program = new Command("archlab")
  .description("Autonomous architecture search for linear-attention layers")
  // One line per mistake (commander's own "error: ..."), not the whole help after it; --help shows usage.
  .exitOverride();

registerEvaluate(program);
registerLs(program);
registerShow(program);
registerDiff(program);
registerLineage(program);
registerExport(program);
registerImport(program);
registerRun(program);
registerCognition(program);
registerSchedule(program);
registerReport(program);
registerData(program);
registerConfirm(program);
registerSteering(program);
registerServe(program);

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
