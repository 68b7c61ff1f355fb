import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import { UsageError } from '../../../common/errors.ts';
import { parseSeriesQuery, parseTimeValue, parseTopQuery, rankKeys } from '../../../dashboard/params.ts';

const config = resolveConfig({});
const NOW = Date.UTC(2026, 10, 22, 12, 30, 15);
const qs = (s: string) => new URLSearchParams(s);

describe('parseTimeValue', () => {
  it.each([
    ['now', NOW],
    ['-90s', NOW - 90_000],
    ['-30m', NOW - 1_800_000],
    ['-2d', NOW - 172_800_000],
    ['1700000000000', 1_700_000_000_000],
    ['2026-11-22T00:00:00Z', Date.UTC(2026, 10, 22)],
  ])('reads %s', (raw, ms) => {
    expect(parseTimeValue('from', raw, NOW)).toBe(ms);
  });

  it.each(['', 'soon', '-1w', '12abc', 'Tue'])('rejects %j with the value and the rule', (raw) => {
    expect(() => parseTimeValue('from', raw, NOW)).toThrow(
      new UsageError(
        `from must be ISO-8601, epoch ms, "now" or relative like -1h; got ${JSON.stringify(raw)}`,
      ),
    );
  });
});

describe('parseSeriesQuery', () => {
  it('defaults to the smallest window and the last 60 windows up to the next window', () => {
    const q = parseSeriesQuery(config, qs('rollup=site_telemetry'), NOW);
    expect(q.window).toBe('1m');
    expect(q.to).toBe(NOW + 60_000);
    expect(q.from).toBe(Date.UTC(2026, 10, 22, 12, 31) - 60 * 60_000);
    expect(q.dims).toEqual({});
  });

  it('reads dims filters by group-by name', () => {
    const q = parseSeriesQuery(config, qs('rollup=site_telemetry&window=1h&from=-1d&dims.site=oslo'), NOW);
    expect(q).toMatchObject({ window: '1h', from: NOW - 86_400_000, dims: { site: 'oslo' } });
  });
});

describe('parseTopQuery', () => {
  it('aligns `at` to its window start and defaults by/n', () => {
    const q = parseTopQuery(config, qs('rollup=site_telemetry&window=1h&at=2026-11-22T12:29:00Z'), NOW);
    expect(q).toMatchObject({ at: Date.UTC(2026, 10, 22, 12), by: 'count', n: 10 });
    expect(parseTopQuery(config, qs('rollup=site_telemetry&at=latest'), NOW).at).toBeNull();
  });
});

describe('rankKeys', () => {
  it('offers count, then avg/min/max/sum of each metric the rollup keeps', () => {
    const custom = resolveConfig({
      rollups: [{ name: 'r', metrics: ['x'], stats: ['count', 'max'] }],
    }).rollups[0]!;
    expect(rankKeys(custom)).toEqual(['count', 'x.max']);
    expect(rankKeys(config.rollups.find((r) => r.name === 'device_temperature')!)).toEqual([
      'count',
      'temperature.avg',
      'temperature.min',
      'temperature.max',
      'temperature.sum',
    ]);
  });
});
