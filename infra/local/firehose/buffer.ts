/**
 * Pure buffering decisions of a delivery stream: Firehose delivers a buffer when its size reaches
 * `SizeInMBs` or when `IntervalInSeconds` has passed since the first record entered it, whichever comes
 * first. Size is measured before compression/conversion. We also never let one object exceed the size hint:
 * a record that would overflow a non-empty buffer first closes it.
 */

/** One record waiting in a buffer. */
export interface BufferedRecord {
  /** The record's bytes (a user record after KPL deaggregation). */
  readonly data: Uint8Array;
  /** Approximate arrival time, epoch ms. */
  readonly arrivalMs: number;
  /** Source shard, or `null` for Direct PUT. */
  readonly shardId: string | null;
  /** Kinesis sequence number, or `null` for Direct PUT. */
  readonly sequenceNumber: string | null;
  /** Index inside a KPL aggregate, `null` for a plain record. */
  readonly subSequenceNumber: number | null;
  /** Whether this is the last user record of its Kinesis record (so the sequence number may be checkpointed). */
  readonly completesSequence: boolean;
}

/** Buffering hints, as Firehose's `BufferingHints`. */
export interface BufferingHints {
  /** 1–128 MiB. */
  readonly sizeMiB: number;
  /** 0–900 seconds; 0 delivers on the next tick. */
  readonly intervalSeconds: number;
}

/** A buffer's size, what the decisions look at. */
export interface BufferSize {
  readonly count: number;
  readonly bytes: number;
  /** When the first record entered, epoch ms (`null` when empty). */
  readonly openedAtMs: number | null;
}

export const MIB = 1024 * 1024;

/** Why a buffer is delivered. */
export type DeliveryReason = 'size' | 'interval' | 'flush';

/**
 * Where a record of `recordBytes` goes: `closeBefore` delivers the current buffer first (the record would
 * overflow a non-empty buffer), `closeAfter` delivers the buffer the record joined (it reached the hint).
 */
export function planAppend(
  size: BufferSize,
  recordBytes: number,
  hints: BufferingHints,
): { readonly closeBefore: boolean; readonly closeAfter: boolean } {
  const limit = hints.sizeMiB * MIB;
  const closeBefore = size.count > 0 && size.bytes + recordBytes > limit;
  const bytesAfter = (closeBefore ? 0 : size.bytes) + recordBytes;
  return { closeBefore, closeAfter: bytesAfter >= limit };
}

/** Whether an open buffer is due by its interval. */
export function intervalDue(size: BufferSize, hints: BufferingHints, nowMs: number): boolean {
  return size.openedAtMs !== null && nowMs - size.openedAtMs >= hints.intervalSeconds * 1000;
}

/** Arrival time of the oldest record (what `!{timestamp:...}` uses). */
export function oldestArrival(records: readonly BufferedRecord[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const r of records) if (r.arrivalMs < min) min = r.arrivalMs;
  return min;
}
