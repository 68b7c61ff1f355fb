/**
 * Kinesis calls the local cloud's parts share (the event source mapping, the Firehose source, the chaos
 * resharder): every shard of a stream across ListShards pages, and waiting for a stream to be ACTIVE.
 */
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { ServiceError } from '../../../common/errors.ts';

/** Every shard of `streamName` (open and closed), following ListShards' NextToken. */
export async function listShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const out = await kinesis.send(
      new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }),
    );
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken !== undefined);
  return shards;
}

/** Polls DescribeStreamSummary until the stream is ACTIVE; a ServiceError after `timeoutMs` (30 s). */
export async function waitStreamActive(
  kinesis: KinesisClient,
  streamName: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new ServiceError(`stream ${streamName} not ACTIVE after ${timeoutMs} ms`, { retryable: true });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
