/**
 * Codecs between aggregate/checkpoint states and DynamoDB items (layout in common/table.ts).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ResolvedConfig, WindowSize } from '../../common/config.ts';
import { WINDOW_MS } from '../../common/config.ts';
import type { QuarantineReason } from '../../common/envelope.ts';
import { SHARDS_PK } from '../../common/table.ts';
import { type CarriedItem, carriedAfter } from '../core/carry.ts';
import type { FoldInput, ItemDelta } from '../core/fold.ts';
import { refoldAfter } from '../core/fold.ts';
import { toPosition } from '../core/position.ts';
import type { AggregateKey } from '../core/rollup.ts';
import { type AggState, decodeState, encodeState, mergeStates } from '../core/state.ts';
import type { ItemCodec, PendingWrite } from './store.ts';

/**
 * An aggregate state as stored: binary (B), the state's exact JSON encoding deflated, so the base64 of the
 * sketches and the repeated field names cost little of the item's 400 KB and write units.
 */
export function stateToBytes(state: AggState): Uint8Array {
  return deflateRawSync(encodeState(state), { level: 1 });
}

/**
 * The state of a stored item, whichever way it was read: a low-level attribute (`{ B }`, or `{ S }` as
 * written before states were binary), or an unmarshalled value (Uint8Array or string) from the document
 * client. The one reader every consumer uses.
 */
export function stateFromAttribute(value: AttributeValue | Uint8Array | string | undefined): AggState {
  if (typeof value === 'string') return decodeState(value);
  if (value instanceof Uint8Array) return decodeState(inflateRawSync(value).toString('utf8'));
  if (value?.B !== undefined) return decodeState(inflateRawSync(value.B).toString('utf8'));
  if (value?.S !== undefined) return decodeState(value.S);
  throw new TypeError('item has no aggregate state (attribute "state" missing)');
}

export interface AggregatePending extends PendingWrite<AggState> {
  readonly key: AggregateKey;
}

/** Pending write of one fold delta by `shardId`. */
export function aggregatePending(
  delta: ItemDelta,
  shardId: string,
  inputs: readonly FoldInput[],
): AggregatePending {
  return {
    pk: delta.pk,
    sk: shardId,
    lo: delta.lo,
    key: delta.key,
    after: (wm) => (wm === undefined ? { state: delta.state, hi: delta.hi } : refoldAfter(delta, inputs, wm)),
  };
}

/** Pending write of one carried item (written when the tumbling window closes) by `shardId`. */
export function carriedPending(pk: string, item: CarriedItem, shardId: string): AggregatePending {
  return {
    pk,
    sk: shardId,
    lo: toPosition(item.lo),
    key: item.key,
    after: (wm) => carriedAfter(item, wm),
  };
}

export function aggregateCodec(
  ttlDays: ResolvedConfig['table']['ttlDays'],
  now: () => number = Date.now,
): ItemCodec<AggState> {
  return {
    merge: mergeStates,
    fromItem: (item) => stateFromAttribute(item.state),
    toItem(p, state, wm) {
      const { key } = p as AggregatePending;
      const start = new Date(key.windowStart).toISOString();
      const expires =
        Math.floor((key.windowStart + WINDOW_MS[key.window]) / 1000) +
        ttlDays[key.window as WindowSize] * 86_400;
      return {
        pk: { S: p.pk },
        sk: { S: p.sk },
        rollup: { S: key.rollup },
        window: { S: key.window },
        dims: { S: key.dims },
        windowStart: { N: String(key.windowStart) },
        count: { N: String(state.count) },
        state: { B: stateToBytes(state) },
        wm: { S: wm },
        gpk: { S: `${key.rollup}#${key.window}` },
        gsk: { S: `${start}#${key.dims}#${p.sk}` },
        ttl: { N: String(expires) },
        updatedAt: { N: String(now()) },
      };
    },
  };
}

/** Per-shard counters kept in the shard checkpoint item. */
export interface ShardCounters {
  records: number;
  aggregated: number;
  quarantined: number;
  late: number;
  reasons: Partial<Record<QuarantineReason, number>>;
  lastArrival: number;
}

/** One user record's contribution to the counters. */
export interface CounterEntry {
  readonly position: string;
  /** True for the first user record of a Kinesis record (counts `records`). */
  readonly firstOfRecord: boolean;
  readonly outcome: 'aggregated' | QuarantineReason;
  readonly arrivalMs: number;
}

export function emptyCounters(): ShardCounters {
  return { records: 0, aggregated: 0, quarantined: 0, late: 0, reasons: {}, lastArrival: 0 };
}

export function mergeCounters(a: ShardCounters, b: ShardCounters): ShardCounters {
  const reasons: Partial<Record<QuarantineReason, number>> = { ...a.reasons };
  for (const [k, v] of Object.entries(b.reasons) as [QuarantineReason, number][])
    reasons[k] = (reasons[k] ?? 0) + v;
  return {
    records: a.records + b.records,
    aggregated: a.aggregated + b.aggregated,
    quarantined: a.quarantined + b.quarantined,
    late: a.late + b.late,
    reasons,
    lastArrival: Math.max(a.lastArrival, b.lastArrival),
  };
}

/** Pending write of the shard checkpoint for `entries` (in stream order). */
export function checkpointPending(
  shardId: string,
  entries: readonly CounterEntry[],
): PendingWrite<ShardCounters> | undefined {
  if (entries.length === 0) return undefined;
  return {
    pk: SHARDS_PK,
    sk: shardId,
    lo: entries[0]!.position,
    after(wm) {
      const c = emptyCounters();
      let hi: string | undefined;
      for (const e of entries) {
        if (wm !== undefined && e.position <= wm) continue;
        hi = e.position;
        if (e.firstOfRecord) c.records++;
        if (e.outcome === 'aggregated') c.aggregated++;
        else {
          c.quarantined++;
          if (e.outcome === 'late') c.late++;
          c.reasons[e.outcome] = (c.reasons[e.outcome] ?? 0) + 1;
        }
        c.lastArrival = Math.max(c.lastArrival, e.arrivalMs);
      }
      return hi === undefined ? undefined : { state: c, hi };
    },
  };
}

export function checkpointCodec(now: () => number = Date.now): ItemCodec<ShardCounters> {
  return {
    merge: mergeCounters,
    fromItem: (item) => ({
      records: Number(item.records?.N ?? 0),
      aggregated: Number(item.aggregated?.N ?? 0),
      quarantined: Number(item.quarantined?.N ?? 0),
      late: Number(item.late?.N ?? 0),
      reasons: JSON.parse(item.reasons?.S ?? '{}') as ShardCounters['reasons'],
      lastArrival: Number(item.lastArrival?.N ?? 0),
    }),
    toItem: (p, c, wm) => ({
      pk: { S: p.pk },
      sk: { S: p.sk },
      records: { N: String(c.records) },
      aggregated: { N: String(c.aggregated) },
      quarantined: { N: String(c.quarantined) },
      late: { N: String(c.late) },
      reasons: { S: JSON.stringify(c.reasons) },
      lastArrival: { N: String(c.lastArrival) },
      wm: { S: wm },
      updatedAt: { N: String(now()) },
    }),
  };
}

/** Reads a checkpoint item's attributes (for status). */
export function countersFromItem(
  item: Record<string, AttributeValue>,
): ShardCounters & { wm: string; shardId: string } {
  return { ...checkpointCodec().fromItem(item), wm: item.wm?.S ?? '', shardId: item.sk?.S ?? '' };
}
