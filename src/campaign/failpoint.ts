/**
 * Crash testing: ARCHLAB_FAILPOINT=<name> makes the process kill itself with SIGKILL the first time it reaches
 * that point (proposed, implemented, probing: the probe run started, training: the first proxy training step,
 * baseline: the baseline's first training step, recording), exactly as a power cut or `kill -9` would.
 * `<name>:SIGINT` or `<name>:SIGTERM` sends that signal instead (once), as a user's Ctrl-C or a scheduler's stop
 * would. The resume tests use it to stop a campaign at each step; it does nothing when the variable is unset.
 */
const fired = new Set<string>();

export function failpoint(name: string): void {
  const spec = process.env.ARCHLAB_FAILPOINT;
  if (!spec) return;
  const [point, signal = "SIGKILL"] = spec.split(":");
  if (point !== name || fired.has(name)) return;
  fired.add(name);
  process.kill(process.pid, signal as NodeJS.Signals);
}
