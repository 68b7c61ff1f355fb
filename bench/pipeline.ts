/**
 * Pipeline: end-to-end records/s through the local cloud (LocalCloud + produce, until the event source
 * mapping has processed everything), beside the Kinesis emulator's own ingest ceiling measured in the same
 * run (PutRecords as fast as possible into a second stream of the same kinesalite, nothing reading it), and
 * produce → aggregate-visible latency of marker events (polling the aggregates table).
 *
 * It also reads the ceiling stream back (GetRecords as fast as possible) for the emulator's read ceiling:
 * in the pipeline kinesalite serves every record three times on its one thread (written once, read by the
 * event source mapping and by Firehose), so `1 / (1 + 2 × ingest / read)` bounds the ratio any pipeline
 * with two consumers can reach against that emulator, however fast everything else is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { dynamodbClient, kinesisClient } from '../common/aws.ts';
import { resolveConfig } from '../common/config.ts';
import { encodeEnvelope } from '../common/envelope.ts';
import { LocalCloud } from '../infra/local/index.ts';
import { aggregateKey, windowStart } from '../processors/index.ts';
import { produce } from '../producers/produce.ts';
import { generateFleet, median, quantile } from './data.ts';

export interface PipelineResult {
  recordsPerSec: number;
  emulatorCeilingRecordsPerSec: number;
  ratio: number;
  latencyMs: { p50: number; p99: number };
  records: number;
  markers: number;
  batchSize: number;
  /** How fast `produce()` alone got the records into the stream (the rest of the time is processing). */
  produceRecordsPerSec: number;
  /** GetRecords (Limit 10,000, every shard at once) reading the ceiling stream back, records/s. */
  emulatorReadCeilingRecordsPerSec: number;
  /**
   * The highest `ratio` two consumers allow on one kinesalite: `1 / (1 + 2 × ceiling / read ceiling)`
   * (the emulator writes each record once and serves it twice, on one thread).
   */
  boundRatio: number;
  /** Whether the emulators ran on worker threads. */
  emulatorThreads: boolean;
}

export interface PipelineBenchOptions {
  /** Records through the pipeline (and into the ceiling stream), 100–10,000,000. @default 50000 */
  readonly records?: number;
  /** Marker events for latency, 1–1,000. @default 30 */
  readonly markers?: number;
  /**
   * Event source mapping BatchSize, 1–10,000. @default 10000 (Lambda's maximum for Kinesis: a high-volume
   * stream's realistic setting; the processor's writes then scale with the items a batch touches).
   */
  readonly batchSize?: number;
  /** Run the emulators on worker threads (`LocalCloud`'s `emulatorThreads`). @default true */
  readonly emulatorThreads?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchPipeline(options: PipelineBenchOptions = {}): Promise<PipelineResult> {
  const n = options.records ?? 50_000;
  const markers = options.markers ?? 30;
  const batchSize = options.batchSize ?? 10_000;
  const config = resolveConfig({ eventSource: { batchSize } });
  const dataDir = mkdtempSync(join(tmpdir(), 'shardline-bench-pipeline-'));
  const emulatorThreads = options.emulatorThreads ?? true;
  const cloud = await LocalCloud.start({ config, dataDir, emulatorThreads });
  const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
  const dynamo = dynamodbClient(cloud.clientOptions('dynamodb'));
  try {
    // 1. The emulator's ingest ceiling: the same kind of records, PutRecords of 500, 4 in flight.
    const ceilingStream = `${config.stream.name}-ceiling`;
    await kinesis.send(
      new CreateStreamCommand({ StreamName: ceilingStream, ShardCount: config.stream.shardCount }),
    );
    for (;;) {
      const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: ceilingStream }));
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await sleep(20);
    }
    const fleet = generateFleet({ records: n, startMs: Date.now(), rate: 100_000 });
    const chunks: { Data: Uint8Array; PartitionKey: string }[][] = [];
    for (let i = 0; i < fleet.length; i += 500) {
      chunks.push(
        fleet.slice(i, i + 500).map((r) => ({ Data: Buffer.from(r.json), PartitionKey: r.partitionKey })),
      );
    }
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < chunks.length) {
          let pending = chunks[next++]!;
          while (pending.length > 0) {
            const res = await kinesis.send(
              new PutRecordsCommand({ StreamName: ceilingStream, Records: pending }),
            );
            pending = pending.filter((_, i) => res.Records?.[i]?.ErrorCode !== undefined);
          }
        }
      }),
    );
    const emulatorCeilingRecordsPerSec = (n * 1000) / (performance.now() - started);
    const emulatorReadCeilingRecordsPerSec = await readCeiling(kinesis, ceilingStream, n);

    // 2. End to end: produce as fast as the producer can, until the mapping has processed everything.
    const t0 = performance.now();
    const produced = await produce({
      streamName: config.stream.name,
      client: kinesis,
      count: n,
      rate: 1_000_000,
      devices: 1000,
      collect: false,
      // One Kinesis record per event: the figure is records per second through the mapping.
      kpl: false,
    });
    if (produced.failures.length > 0)
      throw new Error(`pipeline bench: ${produced.failures.length} records failed`);
    const producedMs = performance.now() - t0;
    // Done when every record is checkpointed (processed and its batch acknowledged); the drain that
    // follows only confirms it (its confirming read waits for the next idle poll, not part of the work).
    const startedAt = Date.now() - (performance.now() - t0);
    const checkpointed = () => (cloud.esm?.stats() ?? []).reduce((a, s) => a + s.recordsCheckpointed, 0);
    const deadline = Date.now() + 600_000;
    while (checkpointed() < n) {
      if (Date.now() > deadline)
        throw new Error(`pipeline bench: ${checkpointed()} of ${n} records after 600 s`);
      await sleep(5);
    }
    const doneAt = Math.max(...(cloud.esm?.stats() ?? []).map((s) => s.lastCheckpointAt ?? 0));
    await cloud.esm?.drain({ timeoutMs: 600_000 });
    if (checkpointed() !== n)
      throw new Error(`pipeline bench: ${checkpointed()} records checkpointed, expected ${n}`);
    const recordsPerSec = (n * 1000) / (doneAt - startedAt);

    // 3. Latency: one marker event at a time, until its aggregate is readable.
    const latencies: number[] = [];
    for (let i = 0; i < markers; i++) {
      const type = `bench_marker_${i}`;
      const ts = Date.now();
      const pk = aggregateKey({
        rollup: 'events_by_type',
        window: '1m',
        dims: type,
        windowStart: windowStart(ts, 60_000),
      });
      const event = {
        v: 1 as const,
        eventId: `bench-marker-${ts}-${i}`,
        source: 'bench',
        type,
        ts,
        metrics: {},
        dims: {},
      };
      const sent = performance.now();
      await kinesis.send(
        new PutRecordCommand({
          StreamName: config.stream.name,
          PartitionKey: `m${i}`,
          Data: Buffer.from(encodeEnvelope(event)),
        }),
      );
      for (;;) {
        const res = await dynamo.send(
          new QueryCommand({
            TableName: config.table.name,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: pk } },
            Limit: 1,
          }),
        );
        if ((res.Count ?? 0) > 0) break;
        if (performance.now() - sent > 60_000)
          throw new Error(`pipeline bench: marker ${i} not visible after 60 s`);
        await sleep(10);
      }
      latencies.push(performance.now() - sent);
    }
    return {
      recordsPerSec,
      emulatorCeilingRecordsPerSec,
      ratio: recordsPerSec / emulatorCeilingRecordsPerSec,
      latencyMs: { p50: median(latencies), p99: quantile(latencies, 0.99) },
      records: n,
      markers,
      batchSize,
      produceRecordsPerSec: (n * 1000) / producedMs,
      emulatorReadCeilingRecordsPerSec,
      boundRatio: 1 / (1 + (2 * emulatorCeilingRecordsPerSec) / emulatorReadCeilingRecordsPerSec),
      emulatorThreads,
    };
  } finally {
    kinesis.destroy();
    dynamo.destroy();
    await cloud.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Reads every shard of `stream` from its start at once, as fast as GetRecords allows; records/s. */
async function readCeiling(kinesis: KinesisClient, stream: string, expected: number): Promise<number> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  let read = 0;
  const started = performance.now();
  await Promise.all(
    shards.map(async (shard) => {
      let iterator = (
        await kinesis.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (iterator !== undefined) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        const got = out.Records?.length ?? 0;
        read += got;
        if (got === 0) break;
        iterator = out.NextShardIterator;
      }
    }),
  );
  if (read !== expected) throw new Error(`pipeline bench: read ${read} records back, expected ${expected}`);
  return (read * 1000) / (performance.now() - started);
}
