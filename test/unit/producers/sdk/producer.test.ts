import { createRequire } from 'node:module';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvelopeInput } from '../../../../common/envelope.ts';
import { ConfigError } from '../../../../common/errors.ts';
import {
  BufferFullError,
  type Clock,
  createEvent,
  type DeliveredRecord,
  type FailedRecord,
  InvalidEventError,
  InvalidRecordError,
  isAggregated,
  Producer,
  ProducerClosedError,
  resolveProducerOptions,
} from '../../../../producers/sdk/index.ts';
import { injectFaults, type LocalKinesis, startKinesalite } from '../../../helpers/kinesalite.ts';

const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg') as {
  deaggregateSync(
    record: { partitionKey: string; sequenceNumber: string; data: string },
    computeChecksums: boolean,
    cb: (err: Error | null, records?: { data: string; subSequenceNumber?: number }[]) => void,
  ): void;
};

const decoder = new TextDecoder();
let kinesis: LocalKinesis;
let streamNo = 0;

beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await kinesis.close();
});

async function newStream(shards = 2): Promise<string> {
  const name = `p${++streamNo}`;
  await kinesis.createStream(name, shards);
  return name;
}

/** Sleeps resolve at once; the delays asked for are recorded. */
function instantClock(): { clock: Clock; delays: number[] } {
  const delays: number[] = [];
  return { clock: { now: () => Date.now(), sleep: async (ms) => void delays.push(ms) }, delays };
}

/** Sleeps never resolve: linger never expires, so only full batches, flush or close send. */
const frozenClock: Clock = { now: () => 0, sleep: () => new Promise<void>(() => {}) };

/** Backoff sleeps resolve at once; the 60 s linger never expires. */
const backoffOnlyClock: Clock = {
  now: () => 0,
  sleep: (ms) => (ms === 60_000 ? new Promise<void>(() => {}) : Promise.resolve()),
};

function event(i: number, source = `device-${String(i % 7).padStart(4, '0')}`): EnvelopeInput {
  return createEvent({
    eventId: `e${i}`,
    source,
    type: 'telemetry',
    ts: Date.UTC(2026, 0, 1) + i,
    metrics: { n: i },
  });
}

const idOf = (data: Uint8Array) => (JSON.parse(decoder.decode(data)) as { eventId: string }).eventId;

describe('Producer delivery', () => {
  it('delivers every event once and counts it', async () => {
    // Arrange
    const stream = await newStream();
    const delivered: DeliveredRecord[] = [];
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client: kinesis.client(),
      onDelivered: (r) => delivered.push(...r),
    });
    // Act
    for (let i = 0; i < 120; i++) await producer.send(event(i));
    await producer.close();
    // Assert
    const records = await kinesis.readAll(stream);
    expect(records.map((r) => idOf(r.data)).sort()).toEqual(
      Array.from({ length: 120 }, (_, i) => `e${i}`).sort(),
    );
    expect(delivered).toHaveLength(120);
    const s = producer.stats();
    expect(s).toMatchObject({ accepted: 120, sent: 120, failed: 0, retried: 0, buffered: 0 });
    expect(s.bytes).toBe(records.reduce((n, r) => n + r.data.byteLength, 0));
    const bySeq = new Map(records.map((r) => [r.sequenceNumber, r.shardId]));
    for (const d of delivered) expect(bySeq.get(d.sequenceNumber)).toBe(d.shardId);
  });

  it('never exceeds the record count or byte limit of a request', async () => {
    const stream = await newStream(1);
    const client = kinesis.client();
    const { calls } = injectFaults(client, () => undefined);
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      maxRequestBytes: 20_000,
      maxRecordBytes: 4_000,
      clock: frozenClock,
    });
    for (let i = 0; i < 700; i++) {
      await producer.sendRaw(new Uint8Array(i % 50 === 0 ? 4_000 : 10 + (i % 90)).fill(65), `key-${i}`);
    }
    await producer.flush();
    expect(calls.length).toBeGreaterThan(2);
    for (const call of calls) {
      const recs = call.Records ?? [];
      expect(recs.length).toBeLessThanOrEqual(500);
      const bytes = recs.reduce(
        (n, r) => n + (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? ''),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(20_000);
    }
    expect(calls.reduce((n, c) => n + (c.Records?.length ?? 0), 0)).toBe(700);
    expect((await kinesis.readAll(stream)).length).toBe(700);
    await producer.close();
  });

  it('fills requests to 500 records when small records are buffered', async () => {
    const stream = await newStream(1);
    const client = kinesis.client();
    const { calls } = injectFaults(client, () => undefined);
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      clock: frozenClock,
      maxInFlightRequests: 1,
    });
    for (let i = 0; i < 1001; i++) await producer.send(event(i));
    await producer.close();
    expect(calls.map((c) => c.Records?.length)).toEqual([500, 500, 1]);
  });
});

describe('Producer validation', () => {
  const producer = () =>
    new Producer({ aggregate: false, streamName: 'x', client: kinesis.client(), clock: frozenClock });

  it('rejects an invalid event with a typed error naming the field', async () => {
    const bad = { ...event(1), metrics: { temperature: 'hot' } } as unknown as EnvelopeInput;
    const err = await producer()
      .send(bad)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventError);
    expect((err as InvalidEventError).reason).toBe('schema_violation');
    expect((err as InvalidEventError).detail).toContain('metrics.temperature');
  });

  it('accepts the same event with validate: false', async () => {
    const p = new Producer({
      aggregate: false,
      streamName: 'x',
      client: kinesis.client(),
      clock: frozenClock,
      validate: false,
    });
    await p.send({ ...event(1), metrics: { temperature: 'hot' } } as unknown as EnvelopeInput);
    expect(p.stats().accepted).toBe(1);
  });

  it('rejects oversize data, bad partition keys and bad hash keys', async () => {
    const p = new Producer({
      aggregate: false,
      streamName: 'x',
      client: kinesis.client(),
      clock: frozenClock,
      maxRecordBytes: 1000,
    });
    await expect(p.sendRaw(new Uint8Array(1001), 'k')).rejects.toThrow(/at most 1000 bytes; received 1001/);
    await expect(p.sendRaw(new Uint8Array(1001), 'k')).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(p.sendRaw(new Uint8Array(0), 'k')).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(p.sendRaw(new Uint8Array(1), '')).rejects.toThrow(/1-256 characters; received 0/);
    await expect(p.sendRaw(new Uint8Array(1), 'k'.repeat(257))).rejects.toThrow(/received 257/);
    await expect(p.sendRaw(new Uint8Array(1), 'k', (1n << 128n).toString())).rejects.toBeInstanceOf(
      InvalidRecordError,
    );
    expect(p.stats().accepted).toBe(0);
  });

  it('resolves options once with messages showing the value received', () => {
    expect(() => resolveProducerOptions({ streamName: 's', maxRecordsPerRequest: 0 })).toThrow(
      /maxRecordsPerRequest: must be an integer between 1 and 500; received 0/,
    );
    expect(() => resolveProducerOptions({})).toThrow(ConfigError);
    expect(() =>
      resolveProducerOptions({ streamName: 's', retry: { baseDelayMs: 100, maxDelayMs: 10 } }),
    ).toThrow(/maxDelayMs: must be at least retry.baseDelayMs \(100\); received 10/);
    const r = resolveProducerOptions({ streamName: 's' });
    expect(r).toMatchObject({
      maxRecordsPerRequest: 500,
      maxRequestBytes: 5 * 1024 * 1024,
      lingerMs: 50,
      maxBufferedRecords: 10_000,
    });
  });
});

describe('Producer retries', () => {
  it('retries only the failed entries', async () => {
    const stream = await newStream();
    const client = kinesis.client();
    const { calls } = injectFaults(client, ({ index, call }) =>
      call === 0 && (index === 1 || index === 3) ? 'ProvisionedThroughputExceededException' : undefined,
    );
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      clock: backoffOnlyClock,
      lingerMs: 60_000,
      maxInFlightRequests: 1,
    });
    for (let i = 0; i < 5; i++) await producer.sendRaw(new TextEncoder().encode(`r${i}`), `k${i}`);
    await producer.close();
    const sent = calls.map((c) => (c.Records ?? []).map((r) => decoder.decode(r.Data)));
    expect(sent.flat().filter((d) => d === 'r1' || d === 'r3')).toHaveLength(4);
    expect(sent.flat().filter((d) => d === 'r0')).toHaveLength(1);
    expect(sent.slice(1).flat().sort()).toEqual(['r1', 'r3']);
    expect(producer.stats()).toMatchObject({ sent: 5, retried: 2, throttled: 2, failed: 0 });
    expect((await kinesis.readAll(stream)).map((r) => decoder.decode(r.data)).sort()).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
    ]);
  });

  it('retries a throttled request with growing full-jitter backoff', async () => {
    const stream = await newStream();
    const client = kinesis.client();
    injectFaults(
      client,
      () => undefined,
      (call) => call < 3,
    );
    const { clock, delays } = instantClock();
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      clock,
      lingerMs: 0,
      random: () => 0.999,
      retry: { baseDelayMs: 100, maxDelayMs: 250 },
    });
    await producer.send(event(1));
    await producer.close();
    expect(delays.filter((d) => d > 0)).toEqual([99, 199, 249]);
    expect(producer.stats()).toMatchObject({ sent: 1, retried: 3, throttled: 3, requests: 4 });
    expect(await kinesis.readAll(stream)).toHaveLength(1);
  });

  it('reports records that exhaust their retries and still delivers the rest', async () => {
    const stream = await newStream();
    const client = kinesis.client();
    const poison = new Set<number>();
    injectFaults(client, ({ index }) => (poison.has(index) ? 'InternalFailure' : undefined));
    const failures: FailedRecord[] = [];
    const { clock } = instantClock();
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      clock,
      maxInFlightRequests: 1,
      retry: { maxAttempts: 3 },
      onFailure: (f) => failures.push(f),
    });
    poison.add(0);
    await producer.sendRaw(new TextEncoder().encode('doomed'), 'k');
    await producer.flush();
    poison.clear();
    await producer.sendRaw(new TextEncoder().encode('fine'), 'k');
    await producer.close();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ errorCode: 'InternalFailure', attempts: 3, partitionKey: 'k' });
    expect(decoder.decode(failures[0]?.data)).toBe('doomed');
    expect(producer.stats()).toMatchObject({ accepted: 2, sent: 1, failed: 1, retried: 2 });
    expect((await kinesis.readAll(stream)).map((r) => decoder.decode(r.data))).toEqual(['fine']);
  });

  it('fails at once on a non-retryable entry error', async () => {
    const stream = await newStream();
    const client = kinesis.client();
    injectFaults(client, () => 'AccessDeniedException');
    const failures: FailedRecord[] = [];
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      onFailure: (f) => failures.push(f),
      clock: instantClock().clock,
    });
    await producer.send(event(1));
    await producer.close();
    expect(failures.map((f) => f.attempts)).toEqual([1]);
    expect(producer.stats()).toMatchObject({ failed: 1, retried: 0 });
  });

  it('reports every record of a request to a stream that does not exist', async () => {
    const failures: FailedRecord[] = [];
    const producer = new Producer({
      aggregate: false,
      streamName: 'missing',
      client: kinesis.client(),
      onFailure: (f) => failures.push(f),
    });
    await producer.send(event(1));
    await producer.send(event(2));
    await producer.close();
    expect(failures.map((f) => f.errorCode)).toEqual([
      'ResourceNotFoundException',
      'ResourceNotFoundException',
    ]);
    expect(producer.stats()).toMatchObject({ failed: 2, sent: 0, buffered: 0 });
  });
});

describe('Producer backpressure, flush and close', () => {
  /** Holds every PutRecords until released. */
  function gated(client: ReturnType<LocalKinesis['client']>) {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        await gate;
        return next(args);
      },
      { step: 'initialize', name: 'gate' },
    );
    return release;
  }
  const ticks = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };

  it('rejects with BufferFullError when full under the reject policy', async () => {
    const stream = await newStream();
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client: kinesis.client(),
      clock: frozenClock,
      maxBufferedRecords: 3,
      bufferFullPolicy: 'reject',
    });
    for (let i = 0; i < 3; i++) await producer.send(event(i));
    const err = await producer.send(event(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BufferFullError);
    expect((err as BufferFullError).retryable).toBe(true);
    await producer.flush();
    await producer.send(event(4));
    await producer.close();
    expect(producer.stats()).toMatchObject({ accepted: 4, sent: 4 });
  });

  it('blocks send under the block policy until records settle', async () => {
    const stream = await newStream();
    const client = kinesis.client();
    const release = gated(client);
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      clock: frozenClock,
      maxBufferedRecords: 2,
    });
    await producer.send(event(0));
    await producer.send(event(1));
    let third = false;
    const p = producer.send(event(2)).then(() => {
      third = true;
    });
    await ticks();
    expect(third).toBe(false);
    expect(producer.stats().accepted).toBe(2);
    release();
    await p;
    expect(third).toBe(true);
    await producer.close();
    expect(producer.stats()).toMatchObject({ accepted: 3, sent: 3 });
  });

  it('flush waits for delivery; close rejects later sends and blocked senders', async () => {
    const stream = await newStream();
    const client = kinesis.client();
    const release = gated(client);
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client,
      clock: frozenClock,
      maxBufferedRecords: 1,
    });
    await producer.send(event(0));
    let flushed = false;
    const f = producer.flush().then(() => {
      flushed = true;
    });
    const blocked = producer.send(event(1)).catch((e: unknown) => e);
    await ticks();
    expect(flushed).toBe(false);
    const closing = producer.close();
    expect(await blocked).toBeInstanceOf(ProducerClosedError);
    release();
    await Promise.all([f, closing]);
    expect(flushed).toBe(true);
    await expect(producer.send(event(2))).rejects.toBeInstanceOf(ProducerClosedError);
    expect((await kinesis.readAll(stream)).map((r) => idOf(r.data))).toEqual(['e0']);
  });
});

describe('Producer partition keys', () => {
  it('routes by source by default and by a random key on request', async () => {
    const stream = await newStream();
    const a = new Producer({ aggregate: false, streamName: stream, client: kinesis.client() });
    await a.send(event(1, 'device-0042'));
    await a.close();
    const b = new Producer({
      aggregate: false,
      streamName: stream,
      client: kinesis.client(),
      partitionKey: 'random',
    });
    await b.send(event(2, 'device-0042'));
    await b.send(event(3, 'device-0042'));
    await b.close();
    const keys = new Map((await kinesis.readAll(stream)).map((r) => [idOf(r.data), r.partitionKey]));
    expect(keys.get('e1')).toBe('device-0042');
    expect(keys.get('e2')).toMatch(/^[0-9a-f]{32}$/);
    expect(keys.get('e3')).not.toBe(keys.get('e2'));
  });

  it('spreads by an ExplicitHashKey from eventId onto the shard owning that hash', async () => {
    const stream = await newStream(4);
    const producer = new Producer({
      aggregate: false,
      streamName: stream,
      client: kinesis.client(),
      partitionKey: 'explicitHashKey',
    });
    for (let i = 0; i < 40; i++) await producer.send(event(i, 'same-source'));
    await producer.close();
    const shards = (await kinesis.client().send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    const { explicitHashKeyOf } = await import('../../../../producers/sdk/index.ts');
    const records = await kinesis.readAll(stream);
    expect(new Set(records.map((r) => r.shardId)).size).toBeGreaterThan(1);
    for (const r of records) {
      const h = BigInt(explicitHashKeyOf(idOf(r.data)));
      const owner = shards.find(
        (s) =>
          BigInt(s.HashKeyRange?.StartingHashKey ?? '0') <= h &&
          h <= BigInt(s.HashKeyRange?.EndingHashKey ?? '0'),
      );
      expect(owner?.ShardId).toBe(r.shardId);
      expect(r.partitionKey).toBe('same-source');
    }
  });
});

describe('Producer KPL aggregation', () => {
  it('round-trips through aws-kinesis-agg deaggregation, each aggregate within the record limit', async () => {
    const stream = await newStream(1);
    const delivered: DeliveredRecord[] = [];
    const producer = new Producer({
      streamName: stream,
      client: kinesis.client(),
      aggregate: true,
      maxRecordBytes: 4096,
      clock: frozenClock,
      onDelivered: (r) => delivered.push(...r),
    });
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const e = event(i);
      sent.push(e.eventId);
      await producer.send(e);
    }
    await producer.close();
    const records = await kinesis.readAll(stream);
    expect(records.length).toBeLessThan(200);
    expect(records.length).toBeGreaterThan(1);
    const users: string[] = [];
    for (const r of records) {
      expect(r.data.byteLength).toBeLessThanOrEqual(4096);
      expect(isAggregated(r.data)).toBe(true);
      agg.deaggregateSync(
        {
          partitionKey: r.partitionKey,
          sequenceNumber: r.sequenceNumber,
          data: Buffer.from(r.data).toString('base64'),
        },
        true,
        (err, recs) => {
          expect(err).toBeFalsy();
          for (const u of recs ?? []) users.push(idOf(Buffer.from(u.data, 'base64')));
        },
      );
    }
    expect(users).toEqual(sent);
    expect(delivered.map((d) => idOf(d.data))).toEqual(sent);
    expect(delivered.every((d) => d.aggregated)).toBe(true);
    expect(producer.stats()).toMatchObject({
      accepted: 200,
      sent: 200,
      bytes: records.reduce((n, r) => n + r.data.byteLength, 0),
    });
  });
});
