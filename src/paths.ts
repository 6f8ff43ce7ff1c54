/** Where the project's own files are, wherever archlab is run from. */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const EXPERIMENTS_DIR = path.join(PROJECT_ROOT, "experiments");
export const DEFAULT_VENV_PYTHON = path.join(EXPERIMENTS_DIR, ".venv", "bin", "python");
