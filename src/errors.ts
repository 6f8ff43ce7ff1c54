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

const SYSTEM_ERRORS: Record<string, string> = {
  EACCES: "permission denied", EPERM: "operation not permitted", EROFS: "read-only file system",
  ENOENT: "no such file or directory", ENOTDIR: "a path component is not a directory", EISDIR: "is a directory",
  EEXIST: "already exists", ENOSPC: "no space left on the device", EDQUOT: "disk quota exceeded",
};

/**
 * A file-system error on a path the user chose (an archive they cannot write, an --out in a missing folder) as
 * one line naming the path, what was being done and why; null for anything else (a bug keeps its stack).
 */
export function fileUserError(err: unknown, doing: string): UserError | null {
  const e = err as NodeJS.ErrnoException;
  if (!(e instanceof Error) || !e.code || !(e.code in SYSTEM_ERRORS)) return null;
  const where = e.path && !doing.includes(e.path) ? `${e.path}: ` : "";
  return new UserError(`${doing}: ${where}${SYSTEM_ERRORS[e.code]} (${e.code})`);
}
