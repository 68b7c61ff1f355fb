/**
 * Invariants of the pure aggregation core: merge laws, batch-boundary invariance.
 * fast-check prints the seed and the shrunk counterexample on failure, so any failure replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../common/config.ts';
import type { ShardlineEvent } from '../../common/envelope.ts';
import { foldBatch } from '../../processors/core/fold.ts';
import { toPosition } from '../../processors/core/position.ts';
import { compileRollups } from '../../processors/core/rollup.ts';
import {
  type AggState,
  addValues,
  emptyState,
  finalizeState,
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

const rollups = compileRollups(resolveConfig({}).rollups);

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

const finalMap = (m: Map<string, AggState>) =>
  Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, fin(v)]));

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
