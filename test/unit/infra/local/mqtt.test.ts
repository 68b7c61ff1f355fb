/**
 * The local MQTT broker and device rule against a real local cloud (kinesalite, the local Firehose), with
 * the `mqtt` library as the device: the topic-over-payload `source` rule, hostile payloads, and a broker
 * restart in the middle of a QoS 1 run.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQuarantine } from '../../../../cli/commands/quarantine.ts';
import { kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { IOT_MAX_PAYLOAD_BYTES } from '../../../../common/iot.ts';
import { LocalMqtt } from '../../../../infra/local/mqtt/index.ts';
import { startTestCloud, type TestCloud } from '../../../helpers/cloud.ts';
import { waitUntil } from '../../../helpers/esm.ts';

const config = resolveConfig({
  stream: { name: 'mqtt-unit', shardCount: 2 },
  table: { name: 'mqtt-unit-aggregates' },
  quarantine: { bufferIntervalSeconds: 0 },
});
let t: TestCloud;
let kinesis: KinesisClient;

beforeAll(async () => {
  t = await startTestCloud(config, 'mqtt-unit', { esm: false, ingest: false });
  kinesis = kinesisClient(t.cloud.clientOptions('kinesis'));
});
afterAll(async () => {
  kinesis?.destroy();
  await t?.stop();
});

interface StreamRecord {
  partitionKey: string;
  json: Record<string, unknown>;
}

/** Every record now in the stream (all shards, from the start). */
async function readStream(): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: config.stream.name }))).Shards ?? [];
  for (const shard of shards) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: config.stream.name,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it) {
      const res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of res.Records ?? []) {
        out.push({
          partitionKey: r.PartitionKey!,
          json: JSON.parse(Buffer.from(r.Data!).toString('utf8')) as Record<string, unknown>,
        });
      }
      if ((res.Records ?? []).length === 0) break;
      it = res.NextShardIterator;
    }
  }
  return out;
}

const envelope = (eventId: string, source: string) =>
  JSON.stringify({
    v: 1,
    eventId,
    source,
    type: 'telemetry',
    ts: new Date().toISOString(),
    metrics: { temperature: 21 },
  });

describe('local MQTT broker and device rule', () => {
  it('is announced in cloud.json and info() as mqttUrl', () => {
    expect(t.cloud.info().mqttUrl).toBe(t.cloud.mqtt!.url);
    expect(t.cloud.mqtt!.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  });

  it('takes source and the partition key from the topic, never from the payload', async () => {
    const client = await mqtt.connectAsync(t.cloud.mqtt!.url, {
      clientId: 'honest-device',
      reconnectPeriod: 0,
    });
    await client.publishAsync('devices/honest-device/events', envelope('topic-1', 'someone-else'), {
      qos: 1,
    });
    await client.publishAsync('devices/honest-device/events', envelope('topic-2', 'honest-device'), {
      qos: 0,
    });
    // Not the rule's topic: routed by the broker only.
    await client.publishAsync('devices/honest-device/status', envelope('topic-3', 'x'), { qos: 1 });
    await client.endAsync();
    await t.cloud.mqtt!.drain();
    const records = (await readStream()).filter((r) => String(r.json.eventId).startsWith('topic-'));
    expect(records.map((r) => [r.json.eventId, r.json.source, r.partitionKey]).sort()).toEqual([
      ['topic-1', 'honest-device', 'honest-device'],
      ['topic-2', 'honest-device', 'honest-device'],
    ]);
  });

  it('counts and quarantines hostile payloads instead of forwarding or dropping them', async () => {
    const before = t.cloud.mqtt!.rule.stats();
    const client = await mqtt.connectAsync(t.cloud.mqtt!.url, { clientId: 'hostile', reconnectPeriod: 0 });
    // Not JSON and not UTF-8: IoT Core's rule fails its SQL (ParseError); the broker still acknowledges.
    await client.publishAsync('devices/hostile/events', 'temperature=21', { qos: 1 });
    await client.publishAsync('devices/hostile/events', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { qos: 1 });
    // An empty source level: Kinesis takes no empty partition key, so the delivery fails.
    await client.publishAsync('devices//events', envelope('no-source', 'x'), { qos: 1 });
    // Over 128 KiB: refused, no PUBACK, the connection is closed (as IoT Core does).
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acked = false;
    client.publish(
      'devices/hostile/events',
      Buffer.alloc(IOT_MAX_PAYLOAD_BYTES + 1, 0x20),
      { qos: 1 },
      (err) => {
        if (!err) acked = true;
      },
    );
    await closed;
    client.end(true);
    await t.cloud.drain({ timeoutMs: 30_000 });

    expect(acked).toBe(false);
    const after = t.cloud.mqtt!.rule.stats();
    const delta = (k: 'invalid_json' | 'invalid_utf8' | 'oversize' | 'delivery_failed') =>
      (after.rejected[k] ?? 0) - (before.rejected[k] ?? 0);
    expect([
      delta('invalid_json'),
      delta('invalid_utf8'),
      delta('delivery_failed'),
      delta('oversize'),
    ]).toEqual([1, 1, 1, 1]);
    expect(after.quarantined - before.quarantined).toBe(4);
    expect(after.forwarded).toBe(before.forwarded);

    const q = await listQuarantine({ config, dataDir: t.dataDir, limit: 100 });
    const mine = q.records.filter((r) => r.shardId === 'mqtt');
    expect(mine.map((r) => r.reason).sort()).toEqual([
      'delivery_failed',
      'invalid_json',
      'invalid_utf8',
      'oversize',
    ]);
    const notJson = mine.find((r) => r.reason === 'invalid_json')!;
    expect(Buffer.from(notJson.data, 'base64').toString()).toBe('temperature=21');
    expect(notJson.partitionKey).toBe('hostile');
    expect(notJson.eventSourceARN).toBe(`arn:aws:iot:${config.region}:000000000000:rule/shardline_devices`);
    const big = mine.find((r) => r.reason === 'oversize')!;
    expect(big.dataBytes).toBe(IOT_MAX_PAYLOAD_BYTES + 1);
    expect(big.dataTruncated).toBe(false);
  });

  it('keeps a persistent session: QoS 1 messages published while a subscriber was away reach it on return', async () => {
    const url = t.cloud.mqtt!.url;
    const watcher = await mqtt.connectAsync(url, { clientId: 'watcher', clean: false, reconnectPeriod: 0 });
    await watcher.subscribeAsync('devices/+/events', { qos: 1 });
    await watcher.endAsync();
    const device = await mqtt.connectAsync(url, { clientId: 'session-device', reconnectPeriod: 0 });
    for (let i = 0; i < 5; i++) {
      await device.publishAsync('devices/session-device/events', envelope(`session-${i}`, 'x'), { qos: 1 });
    }
    await device.endAsync();
    const got: string[] = [];
    const back = mqtt.connect(url, { clientId: 'watcher', clean: false, reconnectPeriod: 0 });
    back.on('message', (_topic, payload) => {
      const id = String((JSON.parse(payload.toString()) as { eventId: string }).eventId);
      if (id.startsWith('session-')) got.push(id);
    });
    const sessionPresent = await new Promise<boolean>((resolve) =>
      back.once('connect', (connack) => resolve(connack.sessionPresent)),
    );
    await waitUntil(() => got.length === 5, 10_000);
    await back.endAsync();
    expect(sessionPresent).toBe(true);
    // The subscriber gets the payload the device published; the rule's mapping is for the stream only.
    expect(got.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `session-${i}`));
  });

  it('loses no QoS 1 message it acknowledged when the broker restarts mid-run', async () => {
    // A broker of its own whose PutRecords calls take 20 ms, one at a time: while one is in flight the next
    // messages wait in the rule's batch, so the restart (which drops that batch, as a crash would) always
    // finds some to lose if the broker had acknowledged them early.
    const slow = kinesisClient(t.cloud.clientOptions('kinesis'));
    slow.middlewareStack.add(
      (next) => async (args) => {
        await new Promise((r) => setTimeout(r, 20));
        return next(args);
      },
      { step: 'initialize', name: 'slowPut' },
    );
    const local = await LocalMqtt.start({
      config,
      kinesis: slow,
      quarantine: t.cloud.clientOptions('firehose'),
      tuning: { maxConcurrentPuts: 1 },
    });
    const N = 300;
    const client = mqtt.connect(local.url, { clientId: 'restart-device', clean: false, reconnectPeriod: 50 });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const acked = new Set<string>();
    const errors: Error[] = [];
    let sent = 0;
    const pump = async () => {
      while (sent < N) {
        for (let k = 0; k < 10 && sent < N; k++) {
          const id = `restart-${sent++}`;
          client.publish(
            'devices/restart-device/events',
            envelope(id, 'restart-device'),
            { qos: 1 },
            (err) => {
              if (err) errors.push(err);
              else acked.add(id);
            },
          );
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      const pumping = pump();
      await waitUntil(() => acked.size >= 100, 20_000);
      const { dropped } = await local.restart();
      const ackedAtRestart = acked.size;
      await pumping;
      await waitUntil(() => acked.size + errors.length === N, 30_000);
      await client.endAsync();
      await local.drain();

      expect(dropped).toBeGreaterThan(0);
      expect(ackedAtRestart).toBeLessThan(N);
      expect(errors).toEqual([]);
      const inStream = new Set(
        (await readStream()).map((r) => String(r.json.eventId)).filter((id) => id.startsWith('restart-')),
      );
      expect([...acked].filter((id) => !inStream.has(id))).toEqual([]);
      expect(inStream.size).toBe(N);
    } finally {
      client.end(true);
      await local.stop();
      slow.destroy();
    }
  });
});
