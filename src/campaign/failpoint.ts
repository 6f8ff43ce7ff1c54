/**
 * Crash testing: ARCHLAB_FAILPOINT=<name> makes the process kill itself with SIGKILL the first time it reaches
 * that point (proposed, implemented, training: the first training step, recording), exactly as a power cut or `kill -9` would. The
 * resume tests use it to stop a campaign at each step; it does nothing when the variable is unset.
 */
export function failpoint(name: string): void {
  if (process.env.ARCHLAB_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}
