import { ConfigError } from '../config/run-config.js';

/** Reads an integer flag; a malformed value names the flag and what it expects. */
export function integerFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim()))
    throw new ConfigError(`${flag} ${JSON.stringify(value)}: expected a whole number`);
  return Number(value);
}

export function listFlag(value: string | undefined, fallback: string[]): string[] {
  return value === undefined
    ? fallback
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** Reads a decimal flag; a malformed value names the flag and what it expects. */
export function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new ConfigError(`${flag} ${JSON.stringify(value)}: expected a number`);
  return n;
}
