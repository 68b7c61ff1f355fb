/**
 * The fold: turns a batch of validated events into one aggregate delta per touched item.
 *
 * Pure: no IO, no clock. Each delta remembers which inputs made it (`members`) and the stream positions
 * they span, so the writer can re-fold only the records past a stored watermark when a retried or
 * partially applied batch meets an item that already holds some of them.
 */
import type { ShardlineEvent } from '../../common/envelope.ts';
import { type AggregateKey, aggregateKey, type CompiledRollup, encodeDims, windowStart } from './rollup.ts';
import { type AggState, addDistinctValue, addQuantileValues, addValues, emptyState } from './state.ts';

/** Folds one event into `state` for `rollup`, in place: exact parts, and sketches only where declared. */
export function foldEvent(state: AggState, rollup: CompiledRollup, event: ShardlineEvent): void {
  addValues(state, rollup.metrics, event.metrics);
  if (rollup.quantiles) addQuantileValues(state, rollup.metrics, event.metrics);
  const distinct = rollup.distinct;
  for (let i = 0; i < distinct.length; i++) {
    const d = distinct[i]!;
    const v = d.get(event);
    if (v !== undefined) addDistinctValue(state, d.field, v);
  }
}

export interface FoldInput {
  /** Fixed-width stream position of the Kinesis record that carried the event (see `toPosition`). */
  readonly position: string;
  readonly event: ShardlineEvent;
}

export interface ItemDelta {
  readonly key: AggregateKey;
  /** `aggregateKey(key)`, precomputed. */
  readonly pk: string;
  readonly rollup: CompiledRollup;
  state: AggState;
  /** Indices into the fold's inputs, ascending. */
  readonly members: number[];
  /** Lowest and highest position folded into `state`. */
  lo: string;
  hi: string;
}

/**
 * Folds `inputs` (in stream order) into deltas keyed by partition key.
 * Inputs must be ordered by position, as a shard's records are.
 */
export function foldBatch(
  rollups: readonly CompiledRollup[],
  inputs: readonly FoldInput[],
): Map<string, ItemDelta> {
  const out = new Map<string, ItemDelta>();
  // Hot path: per rollup, one group per distinct dims (looked up by `groupKey`, no string built per event);
  // per group and window, the delta of the last window start seen (consecutive events share it) and a map
  // from window start to delta for the rest. The partition key (with its ISO date) is built once per item.
  const tables = rollups.map(() => new Map<string, Group>());
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const event = input.event;
    const position = input.position;
    for (let r = 0; r < rollups.length; r++) {
      const rollup = rollups[r]!;
      if (!rollup.matches(event)) continue;
      const table = tables[r]!;
      const gk = rollup.groupKey(event);
      let group = table.get(gk);
      if (group === undefined) {
        group = { dims: encodeDims(rollup.dimValues(event)), last: [], byStart: [] };
        table.set(gk, group);
      }
      const windows = rollup.windows;
      for (let w = 0; w < windows.length; w++) {
        const win = windows[w]!;
        const start = windowStart(event.ts, win.ms);
        let delta = group.last[w];
        if (delta === undefined || delta.key.windowStart !== start) {
          let byStart = group.byStart[w];
          if (byStart === undefined) {
            byStart = new Map<number, ItemDelta>();
            group.byStart[w] = byStart;
          }
          delta = byStart.get(start);
          if (delta === undefined) {
            const key: AggregateKey = {
              rollup: rollup.name,
              window: win.size,
              dims: group.dims,
              windowStart: start,
            };
            const pk = aggregateKey(key);
            delta = { key, pk, rollup, state: emptyState(), members: [], lo: position, hi: position };
            byStart.set(start, delta);
            out.set(pk, delta);
          }
          group.last[w] = delta;
        }
        foldEvent(delta.state, rollup, event);
        delta.members.push(i);
        delta.hi = position;
      }
    }
  }
  return out;
}

/** One rollup's items for one dims value. */
interface Group {
  readonly dims: string;
  /** Per window: the delta the previous event of this group went to. */
  readonly last: (ItemDelta | undefined)[];
  /** Per window: window start → delta. */
  readonly byStart: (Map<number, ItemDelta> | undefined)[];
}

/**
 * Re-folds the part of `delta` whose positions are strictly after `watermark`.
 * Returns `undefined` when every member is at or before it (the item already holds them all).
 */
export function refoldAfter(
  delta: ItemDelta,
  inputs: readonly FoldInput[],
  watermark: string,
): { state: AggState; lo: string; hi: string } | undefined {
  const state = emptyState();
  let lo: string | undefined;
  let hi = watermark;
  for (const i of delta.members) {
    const input = inputs[i]!;
    if (input.position <= watermark) continue;
    if (lo === undefined) lo = input.position;
    hi = input.position;
    foldEvent(state, delta.rollup, input.event);
  }
  return lo === undefined ? undefined : { state, lo, hi };
}
