import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rankRows, toSeries } from '../../../dashboard/api.ts';
import { localOnFailureDepth, ThroughputMeter } from '../../../dashboard/health.ts';
import type { AggregateRow } from '../../../queries/aggregates.ts';

describe('ThroughputMeter', () => {
  it('gives null until two samples are a second apart, then records/s against the oldest kept', () => {
    const meter = new ThroughputMeter();
    expect(meter.sample(0, new Map([['s0', 100]])).get('s0')).toBeNull();
    expect(meter.sample(500, new Map([['s0', 150]])).get('s0')).toBeNull();
    expect(meter.sample(2_000, new Map([['s0', 300]])).get('s0')).toBe(100);
    // samples older than 30 s are dropped: the rate now spans 2 s .. 31 s
    expect(meter.sample(31_000, new Map([['s0', 300 + 2_900]])).get('s0')).toBe(100);
    // a new shard has no history yet
    expect(meter.sample(41_000, new Map([['s9', 5]])).get('s9')).toBeNull();
  });
});

describe('localOnFailureDepth', () => {
  it('counts files under onfailure/ recursively, 0 when absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dash-onfailure-'));
    expect(localOnFailureDepth(dir).depth).toBe(0);
    mkdirSync(join(dir, 'onfailure', 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'onfailure', 'x.json'), '{}');
    writeFileSync(join(dir, 'onfailure', 'a', 'b', 'y.json'), '{}');
    expect(localOnFailureDepth(dir)).toEqual({ depth: 2, source: 'local', detail: join(dir, 'onfailure') });
    rmSync(dir, { recursive: true, force: true });
  });
});

const row = (site: string, minute: number, count: number, max: number): AggregateRow => ({
  rollup: 'r',
  window: '1m',
  dims: { site },
  dimsKey: site,
  windowStart: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  count,
  metrics: { t: { count, sum: max * count, min: 0, max, avg: max } },
  shards: 1,
});

describe('toSeries / rankRows', () => {
  it('groups rows by dims, one point per window, largest group first', () => {
    const series = toSeries([row('a', 0, 1, 5), row('b', 0, 4, 1), row('a', 1, 2, 7)]);
    expect(series.map((s) => [s.key, s.count, s.points.map((p) => p.count)])).toEqual([
      ['b', 4, [4]],
      ['a', 3, [1, 2]],
    ]);
  });

  it('ranks by a statistic, ties by dims key, and cuts to n', () => {
    const ranked = rankRows([row('c', 0, 1, 5), row('a', 0, 9, 5), row('b', 0, 2, 8)], 't.max', 2);
    expect(ranked.map((r) => [r.dims.site, r.value])).toEqual([
      ['b', 8],
      ['a', 5],
    ]);
  });
});
