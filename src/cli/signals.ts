/**
 * SIGINT/SIGTERM for the long-running commands (`run`, `confirm`): the first signal aborts the work cleanly
 * (runs stop, what finished is kept, the next run resumes the rest) and the command exits 128 + the signal's
 * number (130, 143), so cron and scripts can tell a stopped run from a finished one. A second signal has no
 * handler left: Node's default ends the process at once.
 */
import os from "node:os";

export interface Stop {
  signal: AbortSignal;
  /** The signal that stopped the work, null while none has. */
  readonly by: NodeJS.Signals | null;
}

/**
 * Runs `work` with an abort signal tied to SIGINT/SIGTERM. `resume` says on stderr what happens to the
 * unfinished work. Once stopped, the work's error (a run cut short) is one line on stderr, not a failure: the
 * exit code is the signal's either way. Returns the work's value (undefined when it threw after the stop).
 */
export async function stoppable<T>(resume: string, work: (stop: Stop) => Promise<T>): Promise<T | undefined> {
  const controller = new AbortController();
  let by: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    by = signal;
    process.stderr.write(`\narchlab: ${signal}: stopping; ${resume}\n`);
    controller.abort(`stopped by ${signal}`); // the reason a cancelled Slurm job is recorded with
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await work({ signal: controller.signal, get by() { return by; } });
  } catch (err) {
    if (by === null) throw err;
    process.stderr.write(`archlab: ${(err as Error).message.trim().split("\n")[0]}\n`);
    return undefined;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (by !== null) process.exitCode = 128 + os.constants.signals[by as NodeJS.Signals];
  }
}
