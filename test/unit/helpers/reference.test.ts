/** The aggregate reference itself: exact sums, and matchers that reject what the spec does not allow. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import type { ShardlineEvent } from '../../../common/envelope.ts';
import { exactSum, expectedAggregates } from '../../helpers/reference.ts';

describe('exactSum', () => {
  it('rounds the exact sum once (values from Python math.fsum)', () => {
    expect(exactSum([0.1, 0.2, 0.3])).toBe(0.6);
    expect(exactSum([1e16, 1, -1e16])).toBe(1);
    expect(exactSum([1, 1e100, 1, -1e100])).toBe(2);
    expect(exactSum([5e-324, 5e-324])).toBe(1e-323);
    expect(exactSum([2 ** 53, 1])).toBe(2 ** 53); // a tie rounds to even
    expect(exactSum([2 ** 53, 3])).toBe(2 ** 53 + 4);
    expect(exactSum([-0.5, -0.25])).toBe(-0.75);
    expect(exactSum([])).toBe(0);
  });
});

describe('expectedAggregates', () => {
  const config = resolveConfig({
    rollups: [
      {
        name: 'r',
        eventType: 'telemetry',
        metrics: ['t'],
        by: ['dims.site'],
        windows: ['1h'],
        stats: ['count', 'sum', 'min', 'max', 'p50', 'distinct:source'],
      },
    ],
  });
  const T = Date.UTC(2026, 0, 1, 10, 30);
  const event = (i: number, extra: Partial<ShardlineEvent> = {}): ShardlineEvent => ({
    v: 1,
    eventId: `e${i}`,
    source: `d${i % 3}`,
    type: 'telemetry',
    ts: T,
    metrics: { t: i },
    dims: { site: 'a b' },
    ...extra,
  });

  it('keys, counts and folds only matching events, and checks quantiles to 1%', () => {
    const inputs = [
      ...Array.from({ length: 101 }, (_, i) => ({ event: event(i) })),
      { event: event(200, { type: 'click' }) },
      { event: event(201, { metrics: { other: 1 } }) },
    ];
    const expected = expectedAggregates(config, inputs);
    expect(Object.keys(expected)).toEqual(['r#1h#a%20b#2026-01-01T10:00:00.000Z']);
    const agg = expected['r#1h#a%20b#2026-01-01T10:00:00.000Z']!;
    const close = { count: 101, metrics: { t: { count: 101, sum: 5050, min: 0, max: 100, avg: 50 } } };
    expect({ ...close, metrics: { t: { ...close.metrics.t, p50: 50.4 } }, distinct: { source: 3 } }).toEqual(
      agg,
    );
    expect({
      ...close,
      metrics: { t: { ...close.metrics.t, p50: 50.6 } },
      distinct: { source: 3 },
    }).not.toEqual(agg);
    expect({
      ...close,
      metrics: { t: { ...close.metrics.t, p50: 50 } },
      distinct: { source: 4 },
    }).not.toEqual(agg);
  });
});
