/**
 * The processor's side of Lambda tumbling windows (`TumblingWindowInSeconds` on the event source mapping).
 *
 * An invocation in a window gets the shard's `state` back from the previous one; the processor keeps there
 * (as a {@link Carry}) the items it does not write every batch: every window of an `onClose` rollup and the
 * coarser windows of a `live` one. When Lambda says the window is over (`isFinalInvokeForWindow`, or
 * `isWindowTerminatedEarly`), or before the carry would outgrow Lambda's 1 MB state, the carried items are
 * written, each behind its watermark fence, and the carry starts empty.
 *
 * Without a tumbling window (no `window` in the event) nothing is carried: every item is written every batch.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { AggregatePending } from './adapters/items.ts';
import { carriedPending } from './adapters/items.ts';
import type { FencedStore } from './adapters/store.ts';
import {
  CARRY_FLUSH_BYTES,
  type Carry,
  CarryError,
  carryBytes,
  carryFromState,
  emptyCarry,
  foldIntoCarry,
  isCarried,
} from './core/carry.ts';
import type { FoldInput, ItemDelta } from './core/fold.ts';
import type { AggState } from './core/state.ts';

/** What a tumbling-window invocation carries in. */
export interface TumblingInvoke {
  readonly carry: Carry;
  /**
   * Why the given state was not used, when it was not a carry this processor writes (another function's
   * state, a sample event): the window then starts from an empty carry.
   */
  readonly ignoredState?: string;
  /** The window's last invocation (or the window was terminated early): write the carry. */
  readonly final: boolean;
  readonly window: { readonly start: string; readonly end: string };
}

/** The tumbling-window part of an event, or undefined for a plain Kinesis event. */
export function tumblingOf(event: KinesisStreamEvent): TumblingInvoke | undefined {
  const e = event as KinesisStreamEvent & {
    window?: { start: string; end: string };
    state?: unknown;
    isFinalInvokeForWindow?: boolean;
    isWindowTerminatedEarly?: boolean;
  };
  if (e.window === undefined) return undefined;
  let carry: Carry;
  let ignoredState: string | undefined;
  try {
    carry = carryFromState(e.state);
  } catch (err) {
    if (!(err instanceof CarryError)) throw err;
    carry = emptyCarry();
    ignoredState = err.message;
  }
  return {
    carry,
    ...(ignoredState === undefined ? {} : { ignoredState }),
    final: e.isFinalInvokeForWindow === true || e.isWindowTerminatedEarly === true,
    window: e.window,
  };
}

/** Splits a batch's deltas into those written now and those carried (none carried without a window). */
export function splitDeltas(
  deltas: Iterable<ItemDelta>,
  tumbling: boolean,
): { live: ItemDelta[]; carried: ItemDelta[] } {
  const live: ItemDelta[] = [];
  const carried: ItemDelta[] = [];
  for (const d of deltas) {
    if (tumbling && isCarried(d.rollup, d.key.window)) carried.push(d);
    else live.push(d);
  }
  return { live, carried };
}

export interface CarryOutcome {
  /** The state to return to Lambda. */
  readonly carry: Carry;
  /** Carried items written now (0 when nothing was due). */
  readonly flushed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly error?: unknown;
  readonly requests: { reads: number; writes: number };
  /** Bytes of the returned state. */
  readonly stateBytes: number;
}

/**
 * Folds the batch's carried deltas into the carry and writes the carry out when the window ends or it grew
 * too large. After a write, the returned carry holds only the items whose write failed (an item that was
 * written is never extended again: its stored watermark is its range's end, so a later fold into it would
 * put that watermark inside the range); its `wm` stays at the batch's end, so records delivered again add
 * nothing.
 */
export async function advanceCarry(
  store: FencedStore<AggState>,
  given: Carry,
  carried: readonly ItemDelta[],
  inputs: readonly FoldInput[],
  lastPosition: string | undefined,
  shardId: string,
  final: boolean,
): Promise<CarryOutcome> {
  let carry = lastPosition === undefined ? given : foldIntoCarry(given, carried, inputs, lastPosition);
  const requests = { reads: 0, writes: 0 };
  const size = carryBytes(carry);
  if (!final && size <= CARRY_FLUSH_BYTES) {
    return { carry, flushed: 0, skipped: 0, failed: 0, requests, stateBytes: size };
  }
  const pending: AggregatePending[] = Object.entries(carry.items).map(([pk, item]) =>
    carriedPending(pk, item, shardId),
  );
  const r = await store.write(pending);
  requests.reads += r.requests.reads;
  requests.writes += r.requests.writes;
  if (r.failed.length > 0) {
    const failed = new Set(r.failed.map((p) => p.pk));
    const items = Object.fromEntries(Object.entries(carry.items).filter(([pk]) => failed.has(pk)));
    const kept: Carry = { v: 1, wm: carry.wm, items };
    return {
      carry: kept,
      flushed: r.applied,
      skipped: r.skipped,
      failed: r.failed.length,
      error: r.errors[0],
      requests,
      stateBytes: carryBytes(kept),
    };
  }
  carry = emptyCarry(carry.wm);
  return {
    carry,
    flushed: r.applied,
    skipped: r.skipped,
    failed: 0,
    requests,
    stateBytes: carryBytes(carry),
  };
}
