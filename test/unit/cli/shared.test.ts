import { describe, expect, it } from 'vitest';
import { parseTime } from '../../../cli/shared.ts';
import { UsageError } from '../../../common/errors.ts';
import { parseTimeValue } from '../../../dashboard/params.ts';
import { parseTimestamp } from '../../../queries/catalog.ts';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');

describe('time values: one parser for the CLI, the dashboard and query params', () => {
  it.each([
    ['now', NOW],
    ['-90s', NOW - 90_000],
    ['-2d', NOW - 2 * 86_400_000],
    ['1763812800000', 1763812800000],
    ['2026-11-22', Date.parse('2026-11-22')],
    ['2026-11-22T11:00:00Z', NOW - 3_600_000],
  ])('accepts %s', (value, expected) => {
    expect(parseTimestamp(value, NOW)).toBe(expected);
    expect(parseTimeValue('from', value, NOW)).toBe(expected);
  });
  it.each(['March 1 2026', 'soon', '-1w', '1234567890123456', ''])('rejects %j everywhere', (value) => {
    expect(parseTimestamp(value, NOW)).toBeUndefined();
    expect(() => parseTimeValue('from', value, NOW)).toThrow(UsageError);
    expect(() => parseTime('--from')(value)).toThrow(/--from must be ISO-8601, epoch ms, "now" or relative/);
  });
});
