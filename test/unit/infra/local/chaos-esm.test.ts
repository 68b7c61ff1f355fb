/**
 * Event source mapping behaviours chaos runs rely on, against a real kinesalite: the duplicate-delivery
 * hook, a merge read only after both parents, and ParallelizationFactor 1 (rejected otherwise; never two
 * batches of one shard in flight).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  MergeShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { type Emulator, startKinesis } from '../../../../infra/local/emulators.ts';
import {
  EventSourceMapping,
  type EventSourceMappingOptions,
  type KinesisHandler,
} from '../../../../infra/local/esm.ts';

const REGION = 'us-east-1';
let kinesalite: Emulator;
let kinesis: KinesisClient;
let streams = 0;
const running: EventSourceMapping[] = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'test';
  kinesalite = await startKinesis();
  kinesis = kinesisClient({ region: REGION, endpoint: kinesalite.endpoint });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  kinesis.destroy();
  await kinesalite.close();
});

async function active(name: string): Promise<void> {
  for (;;) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function createStream(shards: number): Promise<string> {
  const name = `chaos-esm-${++streams}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await active(name);
  return name;
}

/** Puts `values`, each routed by an explicit hash key. */
async function put(stream: string, values: string[], hashKey: (i: number) => string): Promise<void> {
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: values.map((v, i) => ({
        Data: Buffer.from(v),
        PartitionKey: 'k',
        ExplicitHashKey: hashKey(i),
      })),
    }),
  );
}

function recorder(delayMs = 0) {
  const events: KinesisStreamEvent[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const handler: KinesisHandler = async (event) => {
    events.push(event);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    return { batchItemFailures: [] };
  };
  const data = () =>
    events.flatMap((e) => e.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()));
  return { events, handler, data, maxInFlight: () => maxInFlight };
}

async function startEsm(
  stream: string,
  handler: KinesisHandler,
  overrides: Partial<EventSourceMappingOptions> = {},
): Promise<EventSourceMapping> {
  const esm = await EventSourceMapping.start({
    eventSource: resolveConfig({ eventSource: { batchSize: 3, maximumBatchingWindowInSeconds: 0 } })
      .eventSource,
    streamName: stream,
    streamArn: `arn:aws:kinesis:${REGION}:000000000000:stream/${stream}`,
    kinesis,
    handler,
    stateDir: mkdtempSync(join(tmpdir(), 'chaos-esm-')),
    region: REGION,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:chaos-fn',
    pollIntervalMs: 20,
    shardDiscoveryIntervalMs: 50,
    retryBackoffMs: 1,
    ...overrides,
  });
  running.push(esm);
  return esm;
}

describe('duplicate deliveries', () => {
  it('delivers a batch twice in a row when the hook says so, then moves on', async () => {
    const stream = await createStream(1);
    await put(stream, ['a', 'b', 'c', 'd', 'e', 'f'], () => '1');
    const rec = recorder();
    const asked: number[] = [];
    const esm = await startEsm(stream, rec.handler, {
      duplicateDelivery: (_shard, n) => {
        asked.push(n);
        return asked.length === 1;
      },
    });
    await esm.drain({ timeoutMs: 20_000 });
    expect(rec.data()).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'd', 'e', 'f']);
    expect(rec.events[0]?.Records.map((r) => r.eventID)).toEqual(
      rec.events[1]?.Records.map((r) => r.eventID),
    );
    expect(asked).toEqual([3, 3]); // asked once per batch: a duplicated batch is not duplicated again
    expect(esm.stats()[0]?.batchesSucceeded).toBe(2);
  });

  it('never duplicates without the hook', async () => {
    const stream = await createStream(1);
    await put(stream, ['a', 'b', 'c', 'd'], () => '1');
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 20_000 });
    expect(rec.data()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('resharding: merge', () => {
  it('reads both merged parents to their ends before the child', async () => {
    const stream = await createStream(2);
    const half = (2n ** 128n / 2n).toString();
    await put(stream, ['p0-1', 'p0-2', 'p0-3', 'p0-4'], () => '1');
    await put(stream, ['p1-1', 'p1-2', 'p1-3', 'p1-4', 'p1-5'], () => half);
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: stream,
        ShardToMerge: 'shardId-000000000000',
        AdjacentShardToMerge: 'shardId-000000000001',
      }),
    );
    await active(stream);
    await put(stream, ['c-1', 'c-2', 'c-3'], (i) => (i % 2 === 0 ? '1' : half));
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 20_000 });
    const data = rec.data();
    expect(data.filter((d) => d.startsWith('p0'))).toEqual(['p0-1', 'p0-2', 'p0-3', 'p0-4']);
    expect(data.filter((d) => d.startsWith('p1'))).toEqual(['p1-1', 'p1-2', 'p1-3', 'p1-4', 'p1-5']);
    expect(data.filter((d) => d.startsWith('c'))).toEqual(['c-1', 'c-2', 'c-3']);
    const firstChild = data.findIndex((d) => d.startsWith('c'));
    expect(Math.max(data.lastIndexOf('p0-4'), data.lastIndexOf('p1-5'))).toBeLessThan(firstChild);
    const child = esm.stats().find((s) => s.shardId === 'shardId-000000000002');
    expect(child?.parentShardId).toBe('shardId-000000000000');
    expect(
      esm
        .stats()
        .filter((s) => s.closed)
        .map((s) => s.shardId),
    ).toEqual(['shardId-000000000000', 'shardId-000000000001']);
  });
});

describe('ParallelizationFactor', () => {
  it('is rejected above 1, with the reason', () => {
    expect(() => resolveConfig({ eventSource: { parallelizationFactor: 2 as 1 } })).toThrow(
      /parallelizationFactor: must be 1: exact rollups fence writes by a per-shard watermark.*received 2/,
    );
  });

  it('the mapping never runs two batches of one shard at once', async () => {
    const stream = await createStream(1);
    await put(
      stream,
      Array.from({ length: 30 }, (_, i) => `r${i}`),
      () => '1',
    );
    const rec = recorder(15);
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 20_000 });
    expect(rec.events.length).toBe(10);
    expect(rec.maxInFlight()).toBe(1);
    expect(rec.data()).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`));
  });
});
