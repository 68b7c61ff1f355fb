/**
 * Resharding while events flow: split an open shard at the middle of its hash range, merge two adjacent
 * open shards. Real Kinesis API calls (kinesalite implements SplitShard and MergeShards).
 */
import {
  type KinesisClient,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { ServiceError } from '../../../common/errors.ts';
import { listShards, waitStreamActive } from '../private/kinesis.ts';

/** One resharding done. */
export interface ReshardEvent {
  kind: 'split' | 'merge';
  /** The shard split, or the two shards merged. */
  parents: string[];
  /** ISO-8601 time of the call. */
  at: string;
}

/** Open shards, by starting hash key. */
export async function openShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  return (await listShards(kinesis, streamName))
    .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
    .sort((a, b) => {
      const x = BigInt(a.HashKeyRange?.StartingHashKey ?? '0');
      const y = BigInt(b.HashKeyRange?.StartingHashKey ?? '0');
      return x < y ? -1 : x > y ? 1 : 0;
    });
}

/**
 * Splits the open shard `pick(n)` (of the n open shards, by hash key) at the middle of its hash range.
 * @param pick returns an index in [0, n).
 */
export async function splitShard(
  kinesis: KinesisClient,
  streamName: string,
  pick: (n: number) => number,
): Promise<ReshardEvent> {
  await waitStreamActive(kinesis, streamName);
  const open = (await openShards(kinesis, streamName)).filter((s) => {
    const r = s.HashKeyRange;
    return r !== undefined && BigInt(r.EndingHashKey ?? '0') > BigInt(r.StartingHashKey ?? '0');
  });
  const shard = open[pick(open.length)];
  if (shard?.ShardId === undefined || shard.HashKeyRange === undefined) {
    throw new ServiceError(`stream ${streamName} has no open shard to split`);
  }
  const lo = BigInt(shard.HashKeyRange.StartingHashKey ?? '0');
  const hi = BigInt(shard.HashKeyRange.EndingHashKey ?? '0');
  const at = new Date().toISOString();
  await kinesis.send(
    new SplitShardCommand({
      StreamName: streamName,
      ShardToSplit: shard.ShardId,
      NewStartingHashKey: ((lo + hi + 1n) / 2n).toString(),
    }),
  );
  await waitStreamActive(kinesis, streamName);
  return { kind: 'split', parents: [shard.ShardId], at };
}

/**
 * Merges the adjacent open shards `pick(n)` and its right neighbour (of the n adjacent pairs).
 * @param pick returns an index in [0, n).
 */
export async function mergeShards(
  kinesis: KinesisClient,
  streamName: string,
  pick: (n: number) => number,
): Promise<ReshardEvent> {
  await waitStreamActive(kinesis, streamName);
  const open = await openShards(kinesis, streamName);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < open.length; i++) {
    const a = open[i];
    const b = open[i + 1];
    if (a?.ShardId === undefined || b?.ShardId === undefined) continue;
    if (
      BigInt(a.HashKeyRange?.EndingHashKey ?? '-2') + 1n ===
      BigInt(b.HashKeyRange?.StartingHashKey ?? '-1')
    ) {
      pairs.push([a.ShardId, b.ShardId]);
    }
  }
  const pair = pairs[pick(pairs.length)];
  if (pair === undefined) throw new ServiceError(`stream ${streamName} has no adjacent open shards to merge`);
  const at = new Date().toISOString();
  await kinesis.send(
    new MergeShardsCommand({ StreamName: streamName, ShardToMerge: pair[0], AdjacentShardToMerge: pair[1] }),
  );
  await waitStreamActive(kinesis, streamName);
  return { kind: 'merge', parents: [...pair], at };
}
