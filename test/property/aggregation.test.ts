/**
 * Invariants of the pure aggregation core: merge laws, batch-boundary invariance.
 * fast-check prints the seed and the shrunk counterexample on failure, so any failure replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLUPS, resolveConfig, type Stat } from '../../common/config.ts';
import type { ShardlineEvent } from '../../common/envelope.ts';
import { foldBatch } from '../../processors/core/fold.ts';
import { toPosition } from '../../processors/core/position.ts';
import { compileRollups, parseAggregateKey } from '../../processors/core/rollup.ts';
import {
  type AggState,
  addDistinctValue,
  addQuantileValues,
  addValues,
  decodeState,
  emptyState,
  encodeState,
  finalizeState,
  mergeStateInto,
  mergeStates,
} from '../../processors/core/state.ts';
import { T0 } from '../helpers/factories.ts';

const metric = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const arbState: fc.Arbitrary<AggState> = fc
  .array(fc.record({ temperature: metric, humidity: metric }, { requiredKeys: [] }), { maxLength: 12 })
  .map((rows) => {
    const s = emptyState();
    for (const r of rows) addValues(s, ['temperature', 'humidity'], r);
    return s;
  });

const fin = (s: AggState) => finalizeState(s);

const arbEvent: fc.Arbitrary<ShardlineEvent> = fc.record({
  v: fc.constant(1 as const),
  eventId: fc.uuid(),
  source: fc.constantFrom('device-1', 'device-2', 'device-3'),
  type: fc.constantFrom('telemetry', 'pageview'),
  ts: fc.integer({ min: T0, max: T0 + 3 * 3_600_000 }),
  metrics: fc.record({ temperature: metric, humidity: metric, battery: metric }, { requiredKeys: [] }),
  dims: fc.record({ site: fc.constantFrom('berlin', 'oslo', 'a,b#c') }, { requiredKeys: [] }),
});

describe('the property runs fold sketches', () => {
  it('declares quantile and distinct rollups', () => {
    expect(rollups.some((r) => r.quantiles)).toBe(true);
    expect(rollups.some((r) => r.distinct.length > 0)).toBe(true);
  });
});

const config = resolveConfig({
  rollups: [
    ...DEFAULT_ROLLUPS,
    {
      name: 'sketched',
      metrics: ['temperature', 'humidity', 'battery'],
      by: ['type'],
      windows: ['1m', '1h'],
      stats: ['count', 'sum', 'p0', 'p50', 'p90', 'p99.9', 'p100', 'distinct:source', 'distinct:dims.site'],
    },
    {
      name: 'many_distinct',
      windows: ['1h'],
      stats: ['count', 'distinct:eventId'],
    },
  ],
});
const rollups = compileRollups(config.rollups);
const statsOf = (pk: string) => config.rollups.find((r) => r.name === parseAggregateKey(pk).rollup)!.stats;

function foldAll(events: readonly ShardlineEvent[], offset = 0): Map<string, AggState> {
  const inputs = events.map((event, i) => ({ position: toPosition(String(offset + i + 1)), event }));
  const out = new Map<string, AggState>();
  for (const [pk, d] of foldBatch(rollups, inputs)) out.set(pk, d.state);
  return out;
}

function mergeMaps(maps: readonly Map<string, AggState>[]): Map<string, AggState> {
  const out = new Map<string, AggState>();
  for (const m of maps) for (const [k, v] of m) out.set(k, mergeStates(out.get(k) ?? emptyState(), v));
  return out;
}

/** Finalized with every quantile the rollup declares: sketches must agree bit for bit. */
const finalMap = (m: Map<string, AggState>) =>
  Object.fromEntries(
    [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, finalizeState(v, statsOf(k))]),
  );

/** States with quantile sketches (negative, zero and tiny values too) and distinct-count sketches. */
const SKETCH_STATS: Stat[] = ['p0', 'p25', 'p50', 'p99', 'p100'];
const arbSketchState: fc.Arbitrary<AggState> = fc
  .array(
    fc.record({
      metrics: fc.record(
        { temperature: fc.oneof(metric, fc.constantFrom(0, -0, 1e-12, -3e-10)), humidity: metric },
        { requiredKeys: [] },
      ),
      source: fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string({ maxLength: 6 })),
      site: fc.option(fc.constantFrom('berlin', 'oslo')),
    }),
    { maxLength: 12 },
  )
  .chain((rows) =>
    // Some states beyond the HLL's exact range (registers), from 0 to 2 chunks of 300 distinct values.
    fc.nat(2).map((chunks) => {
      const s = emptyState();
      const names = ['temperature', 'humidity'];
      for (const r of rows) {
        addValues(s, names, r.metrics);
        addQuantileValues(s, names, r.metrics);
        addDistinctValue(s, 'source', r.source);
        if (r.site !== null) addDistinctValue(s, 'dims.site', r.site);
      }
      for (let i = 0; i < chunks * 300; i++) addDistinctValue(s, 'source', `many-${i}-${rows.length}`);
      return s;
    }),
  );
const finS = (s: AggState) => finalizeState(s, SKETCH_STATS);

describe('with sketches inside, the aggregate state is still a commutative monoid', () => {
  it('merge is associative, quantiles and distinct estimates equal bit for bit', () => {
    fc.assert(
      fc.property(arbSketchState, arbSketchState, arbSketchState, (a, b, c) => {
        expect(finS(mergeStates(mergeStates(a, b), c))).toEqual(finS(mergeStates(a, mergeStates(b, c))));
      }),
      { numRuns: 60 },
    );
  });
  // mergeStates is mergeStateInto on a fresh state, so the value is checked by the laws above and by the
  // batch-split property below (against folding everything at once); this checks the in-place part.
  it('merging in place into a copy gives the merge, and shares nothing with the source afterwards', () => {
    fc.assert(
      fc.property(arbSketchState, arbSketchState, (a, b) => {
        const expected = finS(mergeStates(a, b));
        const source = encodeState(b);
        const target = mergeStates(a, emptyState());
        mergeStateInto(target, b);
        expect(finS(target)).toEqual(expected);
        // Nothing of the source is shared with the target afterwards.
        addQuantileValues(target, ['temperature'], { temperature: 2 });
        addDistinctValue(target, 'source', 'after');
        expect(encodeState(b)).toBe(source);
      }),
      { numRuns: 60 },
    );
  });
  it('merge is commutative', () => {
    fc.assert(
      fc.property(arbSketchState, arbSketchState, (a, b) => {
        expect(finS(mergeStates(a, b))).toEqual(finS(mergeStates(b, a)));
      }),
      { numRuns: 60 },
    );
  });
  it('the empty state is the identity, and merging leaves its inputs untouched', () => {
    fc.assert(
      fc.property(arbSketchState, arbSketchState, (a, b) => {
        const before = [encodeState(a), encodeState(b)];
        const m = mergeStates(a, b);
        addQuantileValues(m, ['temperature'], { temperature: 1 });
        addDistinctValue(m, 'source', 'one more');
        expect([encodeState(a), encodeState(b)]).toEqual(before);
        expect(finS(mergeStates(a, emptyState()))).toEqual(finS(a));
        expect(finS(mergeStates(emptyState(), a))).toEqual(finS(a));
      }),
      { numRuns: 60 },
    );
  });
  it('encoding round-trips every sketch', () => {
    fc.assert(
      fc.property(arbSketchState, (a) => {
        const back = decodeState(encodeState(a));
        expect(finS(back)).toEqual(finS(a));
        expect(encodeState(back)).toEqual(encodeState(a));
      }),
      { numRuns: 60 },
    );
  });
});

describe('aggregate state is a commutative monoid', () => {
  it('merge is associative', () => {
    fc.assert(
      fc.property(arbState, arbState, arbState, (a, b, c) => {
        expect(fin(mergeStates(mergeStates(a, b), c))).toEqual(fin(mergeStates(a, mergeStates(b, c))));
      }),
    );
  });
  it('merge is commutative', () => {
    fc.assert(
      fc.property(arbState, arbState, (a, b) => {
        expect(fin(mergeStates(a, b))).toEqual(fin(mergeStates(b, a)));
      }),
    );
  });
  it('the empty state is the identity', () => {
    fc.assert(
      fc.property(arbState, (a) => {
        expect(fin(mergeStates(a, emptyState()))).toEqual(fin(a));
        expect(fin(mergeStates(emptyState(), a))).toEqual(fin(a));
      }),
    );
  });
});

describe('batch boundaries do not change any result', () => {
  it('folding in any split of batches and merging equals folding all at once', () => {
    fc.assert(
      fc.property(
        fc.array(arbEvent, { maxLength: 80 }),
        fc.array(fc.nat(80), { maxLength: 6 }),
        (events, cuts) => {
          const bounds = [
            ...new Set([0, ...cuts.map((c) => Math.min(c, events.length)), events.length]),
          ].sort((a, b) => a - b);
          const parts = bounds.slice(1).map((end, i) => foldAll(events.slice(bounds[i], end), bounds[i]));
          expect(finalMap(mergeMaps(parts))).toEqual(finalMap(foldAll(events)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shard partitioning does not change the merged result', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbEvent, fc.nat(3)), { maxLength: 80 }), (tagged) => {
        const shards = [0, 1, 2, 3].map((s) => foldAll(tagged.filter(([, t]) => t === s).map(([e]) => e)));
        expect(finalMap(mergeMaps(shards))).toEqual(finalMap(foldAll(tagged.map(([e]) => e))));
      }),
      { numRuns: 200 },
    );
  });
});
