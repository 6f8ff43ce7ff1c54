/** archlab's command line: one file per command; this file wires them and maps errors to exit codes. */
import { Command, CommanderError } from "commander";
import { fileUserError, UserError } from "../errors.ts";
import { COMMANDS } from "./commands.ts";

const program = new Command("archlab")
  .description("Autonomous architecture search for linear-attention layers")
  // One line per mistake (commander's own "error: ..."), not the whole help after it; --help shows usage.
  .exitOverride();

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
