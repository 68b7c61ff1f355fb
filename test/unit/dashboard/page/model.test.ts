/** The dashboard page's pure data model, in Node (no browser). Expected values follow from the rules. */
import { describe, expect, it } from 'vitest';
import type { Series, SeriesPoint } from '../../../../dashboard/api.ts';
import {
  ALL_GROUPS,
  align,
  dimsLabel,
  eventsPerWindow,
  formatLag,
  formatValue,
  MAX_LINES,
  pointValue,
  shownSeries,
  valueLabel,
  windowsAxis,
} from '../../../../dashboard/page/model.ts';

const MIN = 60_000;
const T = Date.UTC(2026, 0, 1, 12, 0);

function point(t: number, count: number, temperature?: number, distinctSource?: number): SeriesPoint {
  return {
    windowStart: new Date(t).toISOString(),
    t,
    count,
    metrics:
      temperature === undefined
        ? {}
        : {
            temperature: {
              count,
              sum: temperature * count,
              min: temperature,
              max: temperature,
              avg: temperature,
            },
          },
    ...(distinctSource === undefined ? {} : { distinct: { source: distinctSource } }),
    shards: 1,
  };
}

function series(key: string, points: SeriesPoint[]): Series {
  return { key, dims: { site: key }, count: points.reduce((a, p) => a + p.count, 0), points };
}

describe('dashboard page model', () => {
  it('formats values, lags and labels', () => {
    expect([formatValue(null), formatValue(undefined), formatValue(Number.NaN)]).toEqual(['–', '–', '–']);
    expect(formatValue(1.23456)).toBe('1.23');
    expect(formatValue(12_345.678)).toBe('12,346');
    expect([formatLag(null), formatLag(250), formatLag(1_500), formatLag(180_000)]).toEqual([
      '?',
      '250 ms',
      '1.5 s',
      '3.0 min',
    ]);
    expect(dimsLabel({})).toBe('all events');
    expect(dimsLabel({ site: '' })).toBe('(none)');
    expect(dimsLabel({ site: 'oslo', page: '/' })).toBe('site=oslo · page=/');
    expect(valueLabel('count')).toBe('events');
    expect(valueLabel('distinct:source')).toBe('distinct source (est.)');
    expect(valueLabel('temperature.avg')).toBe('temperature (avg)');
  });

  it('lays windows out from the first to the last with data, gaps included', () => {
    expect(windowsAxis([T + 3 * MIN, T, T, T + MIN], MIN)).toEqual([T, T + MIN, T + 2 * MIN, T + 3 * MIN]);
    expect(windowsAxis([], MIN)).toEqual([]);
  });

  it('aligns groups on one axis in seconds, null where a group has no window', () => {
    const a = series('a', [point(T, 1, 10), point(T + 2 * MIN, 2, 12)]);
    const b = series('b', [point(T + MIN, 5, 20)]);
    expect(align([a, b], MIN, (p) => pointValue(p, 'temperature.avg'))).toEqual([
      [T / 1000, T / 1000 + 60, T / 1000 + 120],
      [10, null, 12],
      [null, 20, null],
    ]);
  });

  it('reads the value a key names, null where the point has none', () => {
    const p = point(T, 4, 21.5, 3);
    expect(pointValue(p, 'count')).toBe(4);
    expect(pointValue(p, 'distinct:source')).toBe(3);
    expect(pointValue(p, 'temperature.max')).toBe(21.5);
    expect(pointValue(p, 'humidity.max')).toBeNull();
    expect(pointValue(point(T, 1), 'distinct:source')).toBeNull();
  });

  it('shows the largest groups, or the picked one; counts events per window over them', () => {
    const many = Array.from({ length: MAX_LINES + 2 }, (_, i) => series(`g${i}`, [point(T, 1)]));
    expect(shownSeries(many, ALL_GROUPS).map((s) => s.key)).toEqual(
      many.slice(0, MAX_LINES).map((s) => s.key),
    );
    expect(shownSeries(many, 'g9').map((s) => s.key)).toEqual(['g9']);
    const a = series('a', [point(T, 1), point(T + 2 * MIN, 2)]);
    const b = series('b', [point(T, 5)]);
    expect(eventsPerWindow([a, b], MIN)).toEqual({
      data: [
        [T / 1000, T / 1000 + 60, T / 1000 + 120],
        [6, null, 2],
      ],
      total: 8,
    });
  });
});
