/**
 * The one integer-range check every option resolver uses, so each says the same thing: the name, the range
 * and the value received.
 */
import { ConfigError, describeValue } from './errors.ts';

/**
 * `must be an integer between <min> and <max>; received <value>` when `value` is not an integer in
 * [min, max], else undefined (for resolvers that collect every problem before throwing).
 */
export function integerRangeRule(value: unknown, min: number, max: number): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return undefined;
  return `must be an integer between ${min} and ${max}; received ${describeValue(value)}`;
}

/**
 * `value` when it is an integer in [min, max]; else throws `makeError("<name> must be an integer between
 * ...; received ...")`, a {@link ConfigError} by default.
 */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
  makeError: (message: string) => Error = (message) => new ConfigError(message),
): number {
  const rule = integerRangeRule(value, min, max);
  if (rule !== undefined) throw makeError(`${name} ${rule}`);
  return value as number;
}
