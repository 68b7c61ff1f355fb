import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import type { ShardlineEvent } from '../../../../common/envelope.ts';
import { type FoldInput, foldBatch, foldEvent } from '../../../../processors/core/fold.ts';
import { toPosition } from '../../../../processors/core/position.ts';
import {
  aggregateKey,
  type CompiledRollup,
  compileRollups,
  encodeDims,
  windowStart,
} from '../../../../processors/core/rollup.ts';
import { type AggState, emptyState, finalizeState } from '../../../../processors/core/state.ts';
import { T0 } from '../../../helpers/factories.ts';

/**
 * The reference fold: each event into each matching rollup and window on its own, keyed by `aggregateKey`
 * built per event, with no batching, grouping or window derivation (what `foldBatch` must equal).
 */
function perEventFold(
  rollups: readonly CompiledRollup[],
  inputs: readonly FoldInput[],
): Map<string, { rollup: CompiledRollup; state: AggState; members: number[] }> {
  const out = new Map<string, { rollup: CompiledRollup; state: AggState; members: number[] }>();
  inputs.forEach(({ event }, i) => {
    for (const rollup of rollups) {
      if (!rollup.matches(event)) continue;
      for (const w of rollup.windows) {
        const pk = aggregateKey({
          rollup: rollup.name,
          window: w.size,
          dims: encodeDims(rollup.dimValues(event)),
          windowStart: windowStart(event.ts, w.ms),
        });
        let e = out.get(pk);
        if (e === undefined) {
          e = { rollup, state: emptyState(), members: [] };
          out.set(pk, e);
        }
        foldEvent(e.state, rollup, event);
        e.members.push(i);
      }
    }
  });
  return out;
}

const SITES = ['berlin', 'oslo', 'a b#c', ''];

function inputs(n: number): FoldInput[] {
  const out: FoldInput[] = [];
  for (let i = 0; i < n; i++) {
    const site = SITES[(i * 7) % SITES.length]!;
    const event: ShardlineEvent = {
      v: 1,
      eventId: `e-${i}`,
      source: `device-${i % 13}`,
      type: i % 5 === 0 ? 'pageview' : 'telemetry',
      // Crosses minute and hour boundaries, and goes back in time now and then.
      ts: T0 + ((i * 7919) % 9_000_000) - (i % 11 === 0 ? 3_600_000 : 0),
      metrics: i % 3 === 0 ? { temperature: -i / 7 } : { temperature: i * 0.1, humidity: 50 - i, battery: 0 },
      dims: site === '' ? { page: `/p${i % 3}` } : { site, page: `/p${i % 3}` },
    };
    out.push({ position: toPosition(String(1000 + i)), event });
  }
  return out;
}

function expectPerEventFold(rollups: CompiledRollup[], ins: FoldInput[]): void {
  const deltas = foldBatch(rollups, ins);
  const expected = perEventFold(rollups, ins);
  expect([...deltas.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [pk, d] of deltas) {
    const e = expected.get(pk)!;
    expect(d.pk).toBe(aggregateKey(d.key));
    // The same value (coarse windows are merged from fine ones, so sum partials may be split differently).
    expect(finalizeState(d.state, d.rollup.config.stats)).toEqual(
      finalizeState(e.state, d.rollup.config.stats),
    );
    expect(d.members).toEqual(e.members);
    expect(d.lo).toBe(ins[e.members[0]!]!.position);
    expect(d.hi).toBe(ins[e.members.at(-1)!]!.position);
  }
}

describe('foldBatch', () => {
  it('equals a plain per-event fold (one item per key, same states, members, positions) with the default rollups', () => {
    expectPerEventFold(compileRollups(resolveConfig({}).rollups), inputs(3000));
  });
  it('builds every coarser window from the finest exactly, whatever order the windows are declared in', () => {
    const config = resolveConfig({
      rollups: [
        {
          name: 'all_windows',
          eventType: 'telemetry',
          metrics: ['temperature', 'humidity'],
          by: ['dims.site'],
          windows: ['1d', '15m', '1m', '1h', '5m'],
          stats: ['count', 'sum', 'min', 'max', 'p50', 'p99', 'distinct:source'],
        },
        { name: 'hours_and_days', by: ['type'], windows: ['1h', '1d'] },
      ],
    });
    expectPerEventFold(compileRollups(config.rollups), inputs(4000));
  });
});
