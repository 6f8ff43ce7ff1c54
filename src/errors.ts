/** Errors a user can fix print one line and exit with their code; anything else is a bug and prints a stack. */
export class UserError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** The archive is held by another writer (DESIGN §6). */
export class LockedError extends UserError {
  override readonly exitCode = 3;
}

/** A zod error's first issue as "path: message", for one-line errors. */
export function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message;
}
