/**
 * Pipeline status through the SDK (the local cloud or AWS alike): per shard, what the processor has done
 * (from the shard checkpoint items) and how far behind the stream it is (MillisBehindLatest-like lag right
 * after its watermark).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { dynamodbClient, kinesisClient } from '../common/aws.ts';
import type { ResolvedConfig } from '../common/config.ts';
import { fromPosition } from '../processors/index.ts';
import { readShardCheckpoints } from './aggregates.ts';

export interface ShardStatus {
  shardId: string;
  open: boolean;
  records: number;
  aggregated: number;
  quarantined: number;
  late: number;
  reasons: Record<string, number>;
  watermark: string | null;
  lastArrival: string | null;
  lagMs: number | null;
}

export interface PipelineStatus {
  stream: string;
  table: string;
  shards: ShardStatus[];
  totals: { records: number; aggregated: number; quarantined: number; late: number };
}

/** Reads the pipeline's status through the SDK (works against the local cloud or AWS alike). */
export async function readStatus(
  config: ResolvedConfig,
  clients: { kinesis: KinesisClient; dynamodb: DynamoDBClient } = {
    kinesis: kinesisClient({ region: config.region }),
    dynamodb: dynamodbClient({ region: config.region }),
  },
): Promise<PipelineStatus> {
  const shards =
    (await clients.kinesis.send(new ListShardsCommand({ StreamName: config.stream.name }))).Shards ?? [];
  const checkpoints = await readShardCheckpoints(clients.dynamodb, config);
  const byShard = new Map(checkpoints.map((c) => [c.shardId, c]));
  const out: ShardStatus[] = [];
  for (const shard of shards) {
    const c = byShard.get(shard.ShardId!);
    const watermark = c?.wm ? fromPosition(c.wm) : null;
    let lagMs: number | null = null;
    try {
      const it = await clients.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: config.stream.name,
          ShardId: shard.ShardId!,
          ...(watermark
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: watermark }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      const res = await clients.kinesis.send(
        new GetRecordsCommand({ ShardIterator: it.ShardIterator!, Limit: 1 }),
      );
      lagMs =
        res.Records && res.Records.length > 0
          ? Math.max(0, Date.now() - res.Records[0]!.ApproximateArrivalTimestamp!.getTime())
          : 0;
    } catch {
      lagMs = null;
    }
    out.push({
      shardId: shard.ShardId!,
      open: shard.SequenceNumberRange?.EndingSequenceNumber === undefined,
      records: c?.records ?? 0,
      aggregated: c?.aggregated ?? 0,
      quarantined: c?.quarantined ?? 0,
      late: c?.late ?? 0,
      reasons: c?.reasons ?? {},
      watermark,
      lastArrival: c?.lastArrival ?? null,
      lagMs,
    });
  }
  const totals = { records: 0, aggregated: 0, quarantined: 0, late: 0 };
  for (const s of out) {
    totals.records += s.records;
    totals.aggregated += s.aggregated;
    totals.quarantined += s.quarantined;
    totals.late += s.late;
  }
  return { stream: config.stream.name, table: config.table.name, shards: out, totals };
}
