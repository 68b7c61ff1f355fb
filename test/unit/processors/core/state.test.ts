import { describe, expect, it } from 'vitest';
import {
  MAX_DISTINCT_FIELDS,
  MAX_QUANTILE_METRICS,
  quantileStats,
  type RollupInput,
  resolveConfig,
} from '../../../../common/config.ts';
import type { ShardlineEvent } from '../../../../common/envelope.ts';
import { aggregateCodec } from '../../../../processors/adapters/items.ts';
import { foldBatch } from '../../../../processors/core/fold.ts';
import { toPosition } from '../../../../processors/core/position.ts';
import { compileRollup, compileRollups } from '../../../../processors/core/rollup.ts';
import { addToHll, emptyHll, HLL_STANDARD_ERROR } from '../../../../processors/core/sketch/hll.ts';
import { addQuantile, emptyQuantileSketch } from '../../../../processors/core/sketch/quantiles.ts';
import {
  type AggState,
  addValues,
  decodeState,
  emptyState,
  encodeState,
  finalizeState,
  mergeStates,
} from '../../../../processors/core/state.ts';
import { T0 } from '../../../helpers/factories.ts';

const event = (i: number, over: Partial<ShardlineEvent> = {}): ShardlineEvent => ({
  v: 1,
  eventId: `e-${i}`,
  source: `device-${i % 7}`,
  type: 'telemetry',
  ts: T0 + i * 100,
  metrics: { latency: i + 1 },
  dims: { site: 'berlin' },
  ...over,
});

function fold(rollup: RollupInput, events: readonly ShardlineEvent[]): AggState {
  const config = resolveConfig({ rollups: [rollup] });
  const deltas = foldBatch(
    compileRollups(config.rollups),
    events.map((e, i) => ({ position: toPosition(String(i + 1)), event: e })),
  );
  expect(deltas.size).toBe(1);
  return [...deltas.values()][0]!.state;
}

describe('aggregate state with sketches', () => {
  it('reports declared quantiles within 1% of the exact value at rank floor(q * (n - 1))', () => {
    const events = Array.from({ length: 1000 }, (_, i) => event(i));
    const stats = ['count', 'p50', 'p90', 'p99', 'p99.9'] as const;
    const state = fold({ name: 'lat', metrics: ['latency'], windows: ['1d'], stats: [...stats] }, events);
    const final = finalizeState(state, [...stats]);
    const sorted = events.map((e) => e.metrics.latency!).sort((a, b) => a - b);
    for (const [label, q] of quantileStats([...stats])) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
      const got = final.metrics.latency![label]!;
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(0.01 * exact);
    }
    expect(final.metrics.latency).toMatchObject({ count: 1000, min: 1, max: 1000, sum: 500_500 });
    // Quantiles not asked for are not reported.
    expect(Object.keys(finalizeState(state).metrics.latency!)).toEqual(['count', 'sum', 'min', 'max', 'avg']);
  });

  it('counts distinct values of any field, skipping missing dims like SQL NULL', () => {
    const events = Array.from({ length: 50 }, (_, i) =>
      event(i, { dims: i % 2 === 0 ? { site: `s${i % 10}` } : {} }),
    );
    const state = fold(
      {
        name: 'd',
        windows: ['1d'],
        stats: ['count', 'distinct:source', 'distinct:dims.site', 'distinct:eventId', 'distinct:type'],
      },
      events,
    );
    expect(finalizeState(state)).toEqual({
      count: 50,
      metrics: {},
      distinct: { 'dims.site': 5, eventId: 50, source: 7, type: 1 },
    });
  });

  it('keeps no sketch in rollups that declare none, and encodes such states as before', () => {
    const state = fold({ name: 'plain', metrics: ['latency'], windows: ['1d'] }, [event(1), event(2)]);
    expect(state.distinct).toBeUndefined();
    expect(state.metrics.latency!.q).toBeUndefined();
    expect(encodeState(state)).toBe(JSON.stringify(state));
    expect(
      compileRollup(resolveConfig({ rollups: [{ name: 'x', metrics: ['m'] }] }).rollups[0]!),
    ).toMatchObject({ quantiles: false, distinct: [] });
  });

  it('round-trips sketches through the stored encoding and merges them', () => {
    const rollup: RollupInput = {
      name: 'both',
      metrics: ['latency'],
      windows: ['1d'],
      stats: ['count', 'p50', 'p99', 'distinct:source'],
    };
    const a = fold(
      rollup,
      Array.from({ length: 300 }, (_, i) => event(i, { source: `a${i}` })),
    );
    const b = fold(
      rollup,
      Array.from({ length: 200 }, (_, i) => event(i, { source: `b${i}` })),
    );
    const back = decodeState(encodeState(a));
    expect(finalizeState(back, ['p50', 'p99'])).toEqual(finalizeState(a, ['p50', 'p99']));
    const merged = finalizeState(mergeStates(back, decodeState(encodeState(b))), ['p50', 'p99']);
    expect(merged.count).toBe(500);
    // 500 distinct sources: an HLL estimate, well within 4 standard errors.
    expect(Math.abs(merged.distinct!.source! - 500)).toBeLessThanOrEqual(4 * HLL_STANDARD_ERROR * 500);
    expect(() => decodeState('{"count":1}')).toThrow('not an aggregate state');
    expect(() => decodeState('{"count":1,"metrics":{},"distinct":{"source":7}}')).toThrow('not a string');
  });

  it('reports null for a declared quantile of a metric folded before it had a sketch', () => {
    const s = emptyState();
    addValues(s, ['m'], { m: 3 });
    expect(finalizeState(s, ['p50']).metrics.m!.p50).toBeNull();
  });
});

describe('DynamoDB item size stays under 400 KB by construction', () => {
  it('fits the worst case at the caps: every bin of every quantile sketch and dense HLLs', () => {
    const metrics = Array.from({ length: MAX_QUANTILE_METRICS }, (_, i) => `m${i}`.padEnd(64, 'x'));
    const fields = Array.from({ length: MAX_DISTINCT_FIELDS }, (_, i) => `dims.${`d${i}`.padEnd(60, 'y')}`);
    // Every bin the envelope's values (|x| <= 1e15) can reach, on both signs, plus zero.
    const worst = emptyQuantileSketch();
    for (let x = 1e-9; x <= 1e15; x *= 1.005) {
      addQuantile(worst, x);
      addQuantile(worst, -x);
    }
    addQuantile(worst, 1e15);
    addQuantile(worst, -1e15);
    addQuantile(worst, 0);
    let hll = emptyHll();
    for (let i = 0; i < 200_000; i++) hll = addToHll(hll, `v${i}`);
    const state: AggState = { count: 1e12, metrics: {}, distinct: {} };
    for (const m of metrics) {
      state.metrics[m] = {
        count: 1e12,
        sum: [1e15, -1.2345678901234566e-9, 3.3333333333333335e-25],
        min: -1e15,
        max: 1e15,
        q: worst,
      };
    }
    for (const f of fields) state.distinct![f] = hll;
    const config = resolveConfig({
      rollups: [
        {
          name: 'w'.repeat(48),
          metrics,
          by: ['dims.a', 'dims.b', 'dims.c', 'dims.d'],
          windows: ['1d'],
          stats: ['count', 'p50', ...fields.map((f) => `distinct:${f}` as const)],
        },
      ],
    });
    const dims = Array.from({ length: 4 }, () => '%F0%9F%98%80'.repeat(128 / 2)).join(',');
    const key = { rollup: config.rollups[0]!.name, window: '1d' as const, dims, windowStart: T0 };
    const item = aggregateCodec(config.table.ttlDays).toItem(
      {
        pk: `${key.rollup}#1d#${dims}#${new Date(T0).toISOString()}`,
        sk: 'shardId-000000000499',
        lo: '0',
        after: () => undefined,
        key,
      } as never,
      state,
      '9'.repeat(64),
    );
    // DynamoDB's item size: attribute names plus values (strings as UTF-8, binary as is, numbers ~21 bytes).
    // The state is stored deflated; deflate can also expand incompressible input by a few bytes per 16 KB
    // block, so the bound by construction is the uncompressed encoding plus that overhead.
    const uncompressed = Buffer.byteLength(encodeState(state));
    let bytes = 0;
    for (const [name, v] of Object.entries(item)) {
      bytes += Buffer.byteLength(name);
      if (v.S !== undefined) bytes += Buffer.byteLength(v.S);
      else if (v.B !== undefined)
        bytes += name === 'state' ? Math.max(v.B.length, uncompressed + 1024) : v.B.length;
      else bytes += 21;
    }
    expect(bytes).toBeLessThan(400 * 1024);
    // The case really is the worst one: sketches at their largest.
    expect(bytes).toBeGreaterThan(330 * 1024);
    // And the stored form is the compact one.
    expect(item.state!.B!.length).toBeLessThan(uncompressed / 4);
  });

  it('rejects rollups whose sketches could exceed it, naming the value and the rule', () => {
    const metrics = Array.from({ length: MAX_QUANTILE_METRICS + 1 }, (_, i) => `m${i}`);
    expect(() => resolveConfig({ rollups: [{ name: 'a', metrics, stats: ['p99'] }] })).toThrow(
      `rollups[0].metrics: a rollup with quantile stats keeps one sketch per metric and must have at most ${MAX_QUANTILE_METRICS} metrics (to stay within DynamoDB's 400 KB item limit); received ${MAX_QUANTILE_METRICS + 1}`,
    );
    // Without quantiles the same rollup is fine.
    expect(() => resolveConfig({ rollups: [{ name: 'a', metrics }] })).not.toThrow();
    const stats = Array.from({ length: MAX_DISTINCT_FIELDS + 1 }, (_, i) => `distinct:dims.f${i}` as const);
    expect(() => resolveConfig({ rollups: [{ name: 'b', stats: ['count', ...stats] }] })).toThrow(
      `at most ${MAX_DISTINCT_FIELDS} distinct: stats per rollup (to stay within DynamoDB's 400 KB item limit); received ${MAX_DISTINCT_FIELDS + 1}`,
    );
  });
});
