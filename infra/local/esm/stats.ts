/** The per-shard counters the event source mapping reports, and how an invocation's outcome moves them. */
import type { Shard } from '@aws-sdk/client-kinesis';
import type { InvokeOutcome } from './policy.ts';

/** Per-shard counters and position. */
export interface ShardStats {
  shardId: string;
  parentShardId?: string;
  /** Invocations started (retries included). */
  invocations: number;
  /** Records handed to the function (redeliveries included). */
  recordsDelivered: number;
  batchesSucceeded: number;
  /** Records past the checkpoint: delivered successfully or discarded to OnFailure (each counted once). */
  recordsCheckpointed: number;
  /** Tumbling windows closed (final invocations that succeeded), early terminations included. */
  windowsClosed: number;
  /** Epoch ms of the last checkpoint advance, or null before the first. */
  lastCheckpointAt: number | null;
  /** Invocations that threw or timed out. */
  functionErrors: number;
  /** Of those, timeouts (the invocation keeps running as a zombie). */
  timeouts: number;
  /** Invocations whose response reported failed items (or was malformed: a whole-batch failure). */
  partialFailures: number;
  /** Re-invocations of a failed batch (bisect halves excluded). */
  retries: number;
  bisects: number;
  /** Batches discarded to the OnFailure destination. */
  onFailure: number;
  checkpoint: string | null;
  millisBehindLatest: number | null;
  closed: boolean;
}

/** Zeroed counters of `shard`, at `checkpoint`. */
export function newShardStats(shard: Shard, checkpoint: string | null): ShardStats {
  return {
    shardId: shard.ShardId ?? '',
    ...(shard.ParentShardId === undefined ? {} : { parentShardId: shard.ParentShardId }),
    invocations: 0,
    recordsDelivered: 0,
    batchesSucceeded: 0,
    recordsCheckpointed: 0,
    windowsClosed: 0,
    lastCheckpointAt: null,
    functionErrors: 0,
    timeouts: 0,
    partialFailures: 0,
    retries: 0,
    bisects: 0,
    onFailure: 0,
    checkpoint,
    millisBehindLatest: null,
    closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
  };
}

/** Counts a failed outcome in `stats` and logs it (a success is counted where it is settled). */
export function countOutcome(
  stats: ShardStats,
  outcome: InvokeOutcome,
  records: number,
  log: (line: string) => void,
): void {
  switch (outcome.kind) {
    case 'success':
      return;
    case 'partial':
      stats.partialFailures++;
      log(`${records - outcome.index} of ${records} records failed`);
      return;
    case 'invalid':
      stats.partialFailures++;
      log(`whole batch failed: ${outcome.reason}`);
      return;
    case 'error':
      stats.functionErrors++;
      if (outcome.timeout) stats.timeouts++;
      log(`function error on ${records} records: ${outcome.message}`);
      return;
  }
}
