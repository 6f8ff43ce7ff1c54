/** Finds the Python that runs the harness: ARCHLAB_PYTHON, else the project venv made by `npm run setup`. */
import fs from "node:fs";
import { UserError } from "../errors.ts";
import { DEFAULT_VENV_PYTHON } from "../paths.ts";

export function findPython(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.ARCHLAB_PYTHON;
  if (configured) {
    if (!fs.existsSync(configured)) throw new UserError(`ARCHLAB_PYTHON points to ${configured}, which does not exist`);
    return configured;
  }
  if (!fs.existsSync(DEFAULT_VENV_PYTHON)) {
    throw new UserError(`no Python environment at ${DEFAULT_VENV_PYTHON}: run \`npm run setup\` (or set ARCHLAB_PYTHON)`);
  }
  return DEFAULT_VENV_PYTHON;
}
