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
