/** Archive errors a user can act on: they print one line (src/errors.ts). */
import { UserError } from "../errors.ts";

/** An archive file or record failed to parse or validate; names the archive and what is wrong. */
export class ArchiveCorruptError extends UserError {}

/** No archive at the path a read command was given. */
export class NoArchiveError extends UserError {}
