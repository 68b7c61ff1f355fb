/**
 * The MQTT device client against the local cloud's broker and rule (kinesalite behind it): envelopes with
 * the device's own source, QoS 1 acknowledgements, the bounded offline queue reporting what it dropped, and
 * reconnecting to a broker that came back.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { LocalMqttBroker } from '../../../../infra/local/mqtt/index.ts';
import { DeviceClient, MessageDroppedError } from '../../../../producers/iot/index.ts';
import { InvalidEventError } from '../../../../producers/sdk/errors.ts';
import { startTestCloud, type TestCloud } from '../../../helpers/cloud.ts';
import { waitUntil } from '../../../helpers/esm.ts';

const config = resolveConfig({
  stream: { name: 'iot-client', shardCount: 1 },
  table: { name: 'iot-client-agg' },
});
let t: TestCloud;
let kinesis: KinesisClient;

beforeAll(async () => {
  t = await startTestCloud(config, 'iot-client', { esm: false, ingest: false, firehose: false });
  kinesis = kinesisClient(t.cloud.clientOptions('kinesis'));
});
afterAll(async () => {
  kinesis?.destroy();
  await t?.stop();
});

async function eventsInStream(): Promise<Record<string, unknown>[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: config.stream.name }))).Shards ?? [];
  const out: Record<string, unknown>[] = [];
  for (const s of shards) {
    const it = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: config.stream.name,
        ShardId: s.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const res = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: it.ShardIterator!, Limit: 10_000 }),
    );
    for (const r of res.Records ?? []) out.push(JSON.parse(Buffer.from(r.Data!).toString()));
  }
  return out;
}

describe('DeviceClient', () => {
  it('publishes envelopes of its own source with QoS 1 and refuses invalid events', async () => {
    const device = await DeviceClient.connect({ url: t.cloud.mqtt!.url, source: 'client-a' });
    await device.send({ type: 'telemetry', ts: Date.now(), metrics: { temperature: 20 }, eventId: 'a-1' });
    await device.send({ source: 'impostor', type: 'telemetry', ts: Date.now(), eventId: 'a-2' });
    await expect(device.send({ type: 'telemetry', ts: 'yesterday', eventId: 'a-3' })).rejects.toBeInstanceOf(
      InvalidEventError,
    );
    expect(device.stats()).toMatchObject({ accepted: 2, sent: 2, dropped: 0, queued: 0, inFlight: 0 });
    await device.close();
    await t.cloud.mqtt!.drain();
    const mine = (await eventsInStream()).filter((e) => String(e.eventId).startsWith('a-'));
    expect(mine.map((e) => [e.eventId, e.source]).sort()).toEqual([
      ['a-1', 'client-a'],
      ['a-2', 'client-a'],
    ]);
  });

  it('queues while offline, drops the oldest past maxQueued and says so, then delivers the rest on reconnect', async () => {
    const broker = t.cloud.mqtt!.broker;
    const port = broker.port;
    const drops: string[] = [];
    const device = await DeviceClient.connect({
      url: t.cloud.mqtt!.url,
      source: 'client-b',
      maxQueued: 5,
      reconnectBaseMs: 20,
      reconnectCapMs: 100,
      onDrop: (d) => drops.push(`${JSON.parse(d.payload).eventId}: ${d.reason}`),
    });
    await broker.stop();
    await waitUntil(() => !device.stats().connected, 5_000);

    const results = Array.from({ length: 8 }, (_, i) =>
      device.send({ type: 'telemetry', ts: Date.now(), eventId: `b-${i}` }).then(
        () => 'sent',
        (err: Error) => (err instanceof MessageDroppedError ? 'dropped' : err.message),
      ),
    );
    expect(device.stats()).toMatchObject({ queued: 5, dropped: 3 });
    expect(drops).toEqual([0, 1, 2].map((i) => `b-${i}: queue full (5 messages waiting)`));

    // The broker comes back on the same port: the client reconnects by itself and sends the queue.
    const back = await LocalMqttBroker.start({ rule: t.cloud.mqtt!.rule, port });
    try {
      expect(await Promise.all(results)).toEqual([
        'dropped',
        'dropped',
        'dropped',
        'sent',
        'sent',
        'sent',
        'sent',
        'sent',
      ]);
      expect(device.stats()).toMatchObject({ reconnects: 1, sent: 5, dropped: 3, queued: 0 });
      await device.close();
      await t.cloud.mqtt!.drain();
      const mine = (await eventsInStream()).filter((e) => String(e.eventId).startsWith('b-'));
      expect(mine.map((e) => e.eventId).sort()).toEqual(['b-3', 'b-4', 'b-5', 'b-6', 'b-7']);
    } finally {
      await back.stop();
    }
  });
});
