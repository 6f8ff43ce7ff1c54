/** Numeric flag values: the number, or one line naming the flag and what it must be. */
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
