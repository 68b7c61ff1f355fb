/**
 * The fold: turns a batch of validated events into one aggregate delta per touched item.
 *
 * Pure: no IO, no clock. Each delta remembers which inputs made it (`members`) and the stream positions
 * they span, so the writer can re-fold only the records past a stored watermark when a retried or
 * partially applied batch meets an item that already holds some of them.
 */
import type { ShardlineEvent } from '../../common/envelope.ts';
import {
  type AggregateKey,
  aggregateKeyWith,
  type CompiledRollup,
  encodeDims,
  windowStart,
} from './rollup.ts';
import {
  type AggState,
  addDistinctValue,
  addQuantileValues,
  addValues,
  emptyState,
  mergeStateInto,
} from './state.ts';

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
 *
 * Each event is folded once per rollup, into its finest window; coarser windows whose size is a multiple
 * of it (every pair of sizes the config allows) are then built by merging the fine deltas, which gives the
 * same value as folding every event into them (merge is exact: see `mergeStates`) for a fraction of the work.
 */
export function foldBatch(
  rollups: readonly CompiledRollup[],
  inputs: readonly FoldInput[],
): Map<string, ItemDelta> {
  const out = new Map<string, ItemDelta>();
  // Window starts formatted for partition keys: the batch's items share a few.
  const iso = new Map<number, string>();
  const plans = rollups.map(planOf);
  // Hot path: per event type, the rollups that can match it (one lookup instead of one test per rollup);
  // per rollup, one group per distinct dims (looked up by `groupKey`, no string built per event); per group
  // and folded window, the delta of the last window start seen (consecutive events share it) and a map
  // from window start to delta for the rest. The partition key is built once per item.
  const byType = new Map<string, number[]>();
  const tables = rollups.map(() => new Map<string, Group>());
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const event = input.event;
    const position = input.position;
    let candidates = byType.get(event.type);
    if (candidates === undefined) {
      candidates = [];
      for (let r = 0; r < rollups.length; r++) {
        const t = rollups[r]!.config.eventType;
        if (t === '*' || t === event.type) candidates.push(r);
      }
      byType.set(event.type, candidates);
    }
    for (let c = 0; c < candidates.length; c++) {
      const r = candidates[c]!;
      const rollup = rollups[r]!;
      if (!rollup.matches(event)) continue;
      const table = tables[r]!;
      const gk = rollup.groupKey(event);
      let group = table.get(gk);
      if (group === undefined) {
        group = { dims: encodeDims(rollup.dimValues(event)), last: [], byStart: [] };
        table.set(gk, group);
      }
      const folded = plans[r]!.folded;
      for (let f = 0; f < folded.length; f++) {
        const w = folded[f]!;
        const win = rollup.windows[w]!;
        const start = windowStart(event.ts, win.ms);
        let delta = group.last[w];
        if (delta === undefined || delta.key.windowStart !== start) {
          delta = deltaFor(out, iso, group, rollup, w, start, position);
          group.last[w] = delta;
        }
        foldEvent(delta.state, rollup, event);
        delta.members.push(i);
        delta.hi = position;
      }
    }
  }
  // Coarse windows from fine ones.
  for (let r = 0; r < rollups.length; r++) {
    const { finest, derived } = plans[r]!;
    if (derived.length === 0) continue;
    const rollup = rollups[r]!;
    for (const group of tables[r]!.values()) {
      const fine = group.byStart[finest];
      if (fine === undefined) continue;
      for (const w of derived) {
        const ms = rollup.windows[w]!.ms;
        const sources = new Map<ItemDelta, number[][]>();
        for (const d of fine.values()) {
          const coarse = deltaFor(out, iso, group, rollup, w, windowStart(d.key.windowStart, ms), d.lo);
          mergeStateInto(coarse.state, d.state);
          if (d.lo < coarse.lo) coarse.lo = d.lo;
          if (d.hi > coarse.hi) coarse.hi = d.hi;
          const lists = sources.get(coarse);
          if (lists === undefined) sources.set(coarse, [d.members]);
          else lists.push(d.members);
        }
        for (const [coarse, lists] of sources) {
          if (lists.length === 1) for (const m of lists[0]!) coarse.members.push(m);
          else {
            for (const list of lists) for (const m of list) coarse.members.push(m);
            coarse.members.sort((a, b) => a - b);
          }
        }
      }
    }
  }
  return out;
}

/** The group's delta for window `w` starting at `start`, created (empty, at `position`) if new. */
function deltaFor(
  out: Map<string, ItemDelta>,
  isoCache: Map<number, string>,
  group: Group,
  rollup: CompiledRollup,
  w: number,
  start: number,
  position: string,
): ItemDelta {
  let byStart = group.byStart[w];
  if (byStart === undefined) {
    byStart = new Map<number, ItemDelta>();
    group.byStart[w] = byStart;
  }
  let delta = byStart.get(start);
  if (delta === undefined) {
    const key: AggregateKey = {
      rollup: rollup.name,
      window: rollup.windows[w]!.size,
      dims: group.dims,
      windowStart: start,
    };
    let iso = isoCache.get(start);
    if (iso === undefined) {
      iso = new Date(start).toISOString();
      isoCache.set(start, iso);
    }
    const pk = aggregateKeyWith(key, iso);
    delta = { key, pk, rollup, state: emptyState(), members: [], lo: position, hi: position };
    byStart.set(start, delta);
    out.set(pk, delta);
  }
  return delta;
}

/** Which of a rollup's windows are folded event by event, and which are merged from the finest. */
interface Plan {
  /** Index of the finest window. */
  readonly finest: number;
  /** Windows folded per event: the finest, and any whose size is not a multiple of it. */
  readonly folded: readonly number[];
  /** Windows built from the finest one's deltas. */
  readonly derived: readonly number[];
}

const PLANS = new WeakMap<CompiledRollup, Plan>();

function planOf(rollup: CompiledRollup): Plan {
  let plan = PLANS.get(rollup);
  if (plan === undefined) {
    const windows = rollup.windows;
    let finest = 0;
    for (let w = 1; w < windows.length; w++) if (windows[w]!.ms < windows[finest]!.ms) finest = w;
    const folded = [finest];
    const derived: number[] = [];
    for (let w = 0; w < windows.length; w++) {
      if (w === finest) continue;
      if (windows[w]!.ms % windows[finest]!.ms === 0) derived.push(w);
      else folded.push(w);
    }
    plan = { finest, folded, derived };
    PLANS.set(rollup, plan);
  }
  return plan;
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
