/**
 * The carry: aggregate deltas held in Lambda's tumbling-window state between a shard's invocations and
 * written to DynamoDB once, when the state window closes, instead of once per batch.
 *
 * Pure: no IO. The carry is plain JSON (Lambda passes it back as the next invocation's `state`, at most
 * 1 MB per shard). It remembers the last stream position folded into it (`wm`), so a batch delivered again
 * with the same state adds nothing twice; and each carried item remembers the positions it spans (`lo`,
 * `hi`), which the fenced write compares with the item's stored watermark.
 */
import { ShardlineError } from '../../common/errors.ts';
import type { FoldInput, ItemDelta } from './fold.ts';
import { refoldAfter } from './fold.ts';
import { fromPosition, toPosition } from './position.ts';
import type { AggregateKey, CompiledRollup } from './rollup.ts';
import { type AggState, decodeState, encodeState, mergeStates } from './state.ts';

/** Lambda's limit on a shard's tumbling-window state. */
export const LAMBDA_STATE_LIMIT_BYTES = 1024 * 1024;
/**
 * The processor writes its carry out (and starts an empty one) before it grows past this, so it never relies
 * on Lambda terminating the window early. @default 900 KB, leaving room for the envelope of the response.
 */
export const CARRY_FLUSH_BYTES = 900 * 1024;

/** One carried item. */
export interface CarriedItem {
  readonly key: AggregateKey;
  /**
   * Lowest and highest position folded into `state`, as sequence numbers without the padding of a position
   * (`fromPosition`): a per-device rollup carries thousands of items, and the state has 1 MB.
   */
  readonly lo: string;
  readonly hi: string;
  /** `encodeState` of the item's state. */
  readonly state: string;
}

/** The tumbling-window state the processor returns (and gets back). */
export interface Carry {
  readonly v: 1;
  /** Highest position folded into the carry, as a sequence number ('' before the first). */
  readonly wm: string;
  /** Carried items by partition key. */
  readonly items: Readonly<Record<string, CarriedItem>>;
}

export function emptyCarry(wm = ''): Carry {
  return { v: 1, wm, items: {} };
}

/** Raised for a state that is not a carry this version wrote. */
export class CarryError extends ShardlineError {
  constructor(message: string) {
    super('CARRY_INVALID', message, { retryable: false });
  }
}

/** Reads Lambda's `state` (undefined or `{}` at a window's first invocation) as a carry. */
export function carryFromState(state: unknown): Carry {
  if (state === undefined || state === null) return emptyCarry();
  if (typeof state !== 'object')
    throw new CarryError(`tumbling-window state must be an object; received ${typeof state}`);
  const s = state as Partial<Carry>;
  if (Object.keys(s).length === 0) return emptyCarry();
  if (s.v !== 1 || typeof s.wm !== 'string' || typeof s.items !== 'object' || s.items === null) {
    throw new CarryError(
      `tumbling-window state is not a Shardline carry (expected { v: 1, wm, items }); received keys ${Object.keys(s).join(',')}`,
    );
  }
  return s as Carry;
}

/** Bytes of the carry as Lambda measures its state: the JSON text. */
export function carryBytes(carry: Carry): number {
  return Buffer.byteLength(JSON.stringify(carry));
}

/**
 * Which deltas are carried: every window of an `onClose` rollup, and the windows of a `live` rollup other
 * than its finest (which dashboards read live).
 */
export function isCarried(rollup: CompiledRollup, window: string): boolean {
  if (rollup.config.freshness === 'onClose') return true;
  let finest = rollup.windows[0]!;
  for (const w of rollup.windows) if (w.ms < finest.ms) finest = w;
  return window !== finest.size;
}

/**
 * Folds the carried `deltas` of a batch into `carry`: only the members past `carry.wm` (a batch seen again
 * adds nothing). `lastPosition` is the batch's last position; the carry's `wm` moves to it.
 */
export function foldIntoCarry(
  carry: Carry,
  deltas: Iterable<ItemDelta>,
  inputs: readonly FoldInput[],
  lastPosition: string,
): Carry {
  const items: Record<string, CarriedItem> = { ...carry.items };
  const wm = carry.wm === '' ? '' : toPosition(carry.wm);
  for (const d of deltas) {
    const part = wm === '' || d.lo > wm ? { state: d.state, lo: d.lo, hi: d.hi } : refoldAfter(d, inputs, wm);
    if (part === undefined) continue;
    const prev = items[d.pk];
    items[d.pk] =
      prev === undefined
        ? { key: d.key, lo: fromPosition(part.lo), hi: fromPosition(part.hi), state: encodeState(part.state) }
        : {
            key: prev.key,
            lo: prev.lo,
            hi: fromPosition(part.hi), // past the carry's wm, so past prev.hi
            state: encodeState(mergeStates(decodeState(prev.state), part.state)),
          };
  }
  return { v: 1, wm: lastPosition > wm ? fromPosition(lastPosition) : carry.wm, items };
}

/**
 * What a carried item contributes to a stored item whose watermark is `wm`: all of it when the item has
 * none of its positions (`wm` before `lo`), nothing when it has all (`wm` at or after `hi`). A watermark
 * inside the range would mean the shard's records were carried in another order than they were written,
 * which in-order delivery rules out; it is reported, never guessed.
 */
export function carriedAfter(
  item: CarriedItem,
  wm: string | undefined,
): { state: AggState; hi: string } | undefined {
  const lo = toPosition(item.lo);
  const hi = toPosition(item.hi);
  if (wm === undefined || wm < lo) return { state: decodeState(item.state), hi };
  if (wm >= hi) return undefined;
  throw new CarryError(
    `stored watermark ${fromPosition(wm)} falls inside a carried item's range (${item.lo}..${item.hi}) for ${JSON.stringify(item.key)}`,
  );
}
