/**
 * The event source mapping against a real kinesalite: batching, event shape, starting positions,
 * ordering, checkpoints across restarts and resharding. Failure handling is in esm-failures.test.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { esmHarness, eventSource, FUNCTION_ARN, REGION, recorder, waitUntil } from '../../../helpers/esm.ts';

const harness = esmHarness();
const { createStream, put, startEsm } = harness;

/** The records of a one-shard stream, read from TRIM_HORIZON. */
async function readAll(stream: string) {
  const it = await harness.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  return (
    (await harness.kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records ?? []
  );
}

describe('event shape', () => {
  it('builds every record field exactly as Lambda does', async () => {
    // Arrange
    const stream = await createStream();
    const seq = await put(stream, 'hello', 'pk-1');
    const rec = recorder();
    // Act
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 10_000 });
    // Assert
    expect(rec.calls).toHaveLength(1);
    const record = rec.calls[0]?.event.Records[0];
    expect(Object.keys(rec.calls[0]?.event ?? {})).toEqual(['Records']);
    expect(record).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk-1',
        sequenceNumber: seq,
        data: Buffer.from('hello').toString('base64'),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${seq}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/test-fn-role',
      awsRegion: REGION,
      eventSourceARN: `arn:aws:kinesis:${REGION}:000000000000:stream/${stream}`,
    });
    expect(Object.keys(record ?? {})).toEqual([
      'kinesis',
      'eventSource',
      'eventVersion',
      'eventID',
      'eventName',
      'invokeIdentityArn',
      'awsRegion',
      'eventSourceARN',
    ]);
    const ts = record?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(600); // seconds, not milliseconds
    expect(Number.isInteger(Math.round(ts * 1000))).toBe(true);
  });

  it('passes a Lambda-like context counting down from the function timeout', async () => {
    const stream = await createStream();
    await put(stream, 'x');
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ functionTimeoutSeconds: 30 }),
    });
    await esm.drain({ timeoutMs: 10_000 });
    const call = rec.calls[0];
    expect(call?.context.functionName).toBe('test-fn');
    expect(call?.context.invokedFunctionArn).toBe(FUNCTION_ARN);
    expect(call?.context.functionVersion).toBe('$LATEST');
    expect(call?.context.awsRequestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(call?.remainingAtStart).toBeGreaterThan(0);
    expect(call?.remainingAtStart).toBeLessThanOrEqual(30_000);
  });
});

describe('batching', () => {
  it('caps a batch at batchSize and keeps order', async () => {
    const stream = await createStream();
    for (let i = 0; i < 25; i++) await put(stream, `r${i}`);
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, { eventSource: eventSource({ batchSize: 10 }) });
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => c.event.Records.length)).toEqual([10, 10, 5]);
    expect(rec.data()).toEqual(Array.from({ length: 25 }, (_, i) => `r${i}`));
  });

  it('gathers records arriving within the batching window into one invocation', async () => {
    const stream = await createStream();
    for (let i = 0; i < 3; i++) await put(stream, `a${i}`);
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ maximumBatchingWindowInSeconds: 2 }),
    });
    // Once the first page (the a-records) is read, the window is open: the b-records arrive within it.
    await waitUntil(() => esm.stats()[0]?.millisBehindLatest !== null);
    for (let i = 0; i < 3; i++) await put(stream, `b${i}`);
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => c.event.Records.length)).toEqual([6]);
  });

  it('without a batching window, invokes with what one read returned', async () => {
    const stream = await createStream();
    // One PutRecords call per phase: kinesalite writes it atomically, so a concurrent read sees all or none.
    const putThree = (prefix: string) =>
      harness.kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [0, 1, 2].map((i) => ({ PartitionKey: 'k', Data: Buffer.from(`${prefix}${i}`) })),
        }),
      );
    await putThree('a');
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 10_000 });
    await putThree('b');
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => c.event.Records.length)).toEqual([3, 3]);
  });

  it('splits batches at the 6 MB synchronous payload limit', async () => {
    const stream = await createStream();
    const big = new Uint8Array(1_000_000).fill(65); // 1.33 MB once base64-encoded
    for (let i = 0; i < 8; i++) await put(stream, big);
    const sizes: number[] = [];
    const rec = recorder((event) => {
      sizes.push(Buffer.byteLength(JSON.stringify(event)));
      return {};
    });
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 20_000 });
    expect(rec.calls.map((c) => c.event.Records.length)).toEqual([4, 4]);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(6_291_456);
  });
});

describe('starting position', () => {
  it('TRIM_HORIZON reads records put before the mapping existed', async () => {
    const stream = await createStream();
    await put(stream, 'old');
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ startingPosition: 'TRIM_HORIZON' }),
    });
    await put(stream, 'new');
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.data()).toEqual(['old', 'new']);
  });

  it('LATEST reads only records put after the mapping started', async () => {
    const stream = await createStream();
    await put(stream, 'old');
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ startingPosition: 'LATEST' }),
    });
    await put(stream, 'new');
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.data()).toEqual(['new']);
  });

  it('AT_TIMESTAMP reads records that arrived at or after the timestamp', async () => {
    const stream = await createStream();
    await put(stream, 'old');
    // The timestamp: just after the old record's arrival; the new one is put once the clock has passed it.
    const [oldRecord] = await readAll(stream);
    const at = (oldRecord!.ApproximateArrivalTimestamp!.getTime() + 1) / 1000;
    await waitUntil(() => Date.now() > at * 1000 + 1);
    await put(stream, 'new');
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: at }),
    });
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.data()).toEqual(['new']);
  });
});

describe('shards', () => {
  it('puts records of one shard only in each batch, in sequence order', async () => {
    const stream = await createStream(4);
    const sent = new Map<string, string[]>();
    for (let i = 0; i < 120; i++) {
      const seq = await put(stream, `r${i}`, `key-${i % 17}`);
      sent.set(`key-${i % 17}`, [...(sent.get(`key-${i % 17}`) ?? []), seq]);
    }
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, { eventSource: eventSource({ batchSize: 7 }) });
    await esm.drain({ timeoutMs: 20_000 });
    const byShard = new Map<string, bigint[]>();
    for (const call of rec.calls) {
      const shards = new Set(call.event.Records.map((r) => r.eventID.split(':')[0]));
      expect(shards.size).toBe(1);
      for (const r of call.event.Records) {
        const shard = r.eventID.split(':')[0] ?? '';
        byShard.set(shard, [...(byShard.get(shard) ?? []), BigInt(r.kinesis.sequenceNumber)]);
      }
    }
    let total = 0;
    for (const seqs of byShard.values()) {
      total += seqs.length;
      for (let i = 1; i < seqs.length; i++) expect((seqs[i] ?? 0n) > (seqs[i - 1] ?? 0n)).toBe(true);
    }
    expect(total).toBe(120);
    expect(byShard.size).toBeGreaterThan(1);
    expect(
      esm
        .stats()
        .map((s) => s.recordsDelivered)
        .reduce((a, b) => a + b, 0),
    ).toBe(120);
  });

  it('reads a split parent to its end before either child', async () => {
    const stream = await createStream(1);
    for (let i = 0; i < 5; i++) await put(stream, `parent-${i}`, `k${i}`);
    await harness.kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitUntil(async () => {
      const out = await harness.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      return out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    });
    for (let i = 0; i < 6; i++)
      await put(stream, `child-${i}`, `k${i}`, i % 2 === 0 ? '1' : (2n ** 127n + 1n).toString());
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler, { eventSource: eventSource({ batchSize: 2 }) });
    await esm.drain({ timeoutMs: 20_000 });
    const data = rec.data();
    expect(data.filter((d) => d.startsWith('parent'))).toEqual([
      'parent-0',
      'parent-1',
      'parent-2',
      'parent-3',
      'parent-4',
    ]);
    expect(data.filter((d) => d.startsWith('child'))).toHaveLength(6);
    const lastParent = data.lastIndexOf('parent-4');
    const firstChild = data.findIndex((d) => d.startsWith('child'));
    expect(lastParent).toBeLessThan(firstChild);
    const stats = esm.stats();
    expect(stats.find((s) => s.shardId === 'shardId-000000000000')?.closed).toBe(true);
    expect(stats.filter((s) => s.parentShardId === 'shardId-000000000000')).toHaveLength(2);
  });
});

describe('checkpoints', () => {
  it('resumes after a restart from the persisted checkpoint', async () => {
    const stream = await createStream(2);
    const stateDir = mkdtempSync(join(tmpdir(), 'esm-restart-'));
    for (let i = 0; i < 6; i++) await put(stream, `first-${i}`, `k${i}`);
    const first = recorder();
    const esm1 = await startEsm(stream, first.handler, { stateDir });
    await esm1.drain({ timeoutMs: 10_000 });
    await esm1.stop();
    for (let i = 0; i < 4; i++) await put(stream, `second-${i}`, `k${i}`);
    const second = recorder();
    const esm2 = await startEsm(stream, second.handler, { stateDir });
    await esm2.drain({ timeoutMs: 10_000 });
    expect(first.data().sort()).toEqual(Array.from({ length: 6 }, (_, i) => `first-${i}`));
    expect(second.data().sort()).toEqual(Array.from({ length: 4 }, (_, i) => `second-${i}`));
    expect(esm2.uuid).toBe(esm1.uuid);
    const saved = JSON.parse(readFileSync(join(stateDir, 'shards', 'shardId-000000000000.json'), 'utf8')) as {
      sequenceNumber: string;
    };
    expect(saved.sequenceNumber).toBe(esm2.stats()[0]?.checkpoint);
  });

  it('a new mapping (fresh state) starts at the starting position again', async () => {
    const stream = await createStream();
    for (let i = 0; i < 3; i++) await put(stream, `r${i}`);
    const first = recorder();
    await (await startEsm(stream, first.handler)).drain({ timeoutMs: 10_000 });
    const second = recorder();
    await (await startEsm(stream, second.handler)).drain({ timeoutMs: 10_000 });
    expect(second.data()).toEqual(['r0', 'r1', 'r2']);
  });
});
