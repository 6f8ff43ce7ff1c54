/**
 * Crash testing: ARCHLAB_FAILPOINT=<name> makes the process kill itself with SIGKILL the first time it reaches
 * that point (proposed, implemented, probing: the probe run started, training: the first proxy training step,
 * baseline: the baseline's first training step, recording), exactly as a power cut or `kill -9` would.
 * `<name>:SIGINT` or `<name>:SIGTERM` sends that signal instead (once), as a user's Ctrl-C or a scheduler's stop
 * would. The resume tests use it to stop a campaign at each step; it does nothing when the variable is unset.
 */
const fired = new Set<string>();

/** Resolves once the signal has been handled (SIGINT/SIGTERM), so the step after it sees the campaign stopping. */
export function failpoint(name: string): Promise<void> {
  const spec = process.env.ARCHLAB_FAILPOINT;
  if (!spec) return Promise.resolve();
  const [point, signal = "SIGKILL"] = spec.split(":") as [string, NodeJS.Signals?];
  if (point !== name || fired.has(name)) return Promise.resolve();
  fired.add(name);
  if (signal === "SIGKILL") process.kill(process.pid, signal);
  return new Promise((resolve) => {
    const alive = setTimeout(() => {}, 60_000); // signal handles do not keep the event loop running
    process.once(signal, () => {
      clearTimeout(alive);
      resolve();
    });
    process.kill(process.pid, signal);
  });
}
