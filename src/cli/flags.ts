/** Flag values shared by the commands: the number, or one line naming the flag and what it must be. */
import { UserError } from "../errors.ts";

export function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UserError(`${flag} must be a positive integer, not "${text}"`);
  return value;
}

export function nonNegativeInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UserError(`${flag} must be a non-negative integer, not "${text}"`);
  return value;
}

export function positiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UserError(`${flag} must be a positive number, not "${text}"`);
  return value;
}

/** The most seeds one command trains per candidate (confirm --seeds, run --confirm-seeds, evaluate --seeds). */
export const MAX_SEEDS = 100;

/** A seed count: an integer from 1 to MAX_SEEDS. */
export function seedCount(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_SEEDS) throw new UserError(`${flag} must be an integer from 1 to ${MAX_SEEDS}, not "${text}"`);
  return value;
}

export function fraction(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new UserError(`${flag} must be a number from 0 to 1, not "${text}"`);
  return value;
}
