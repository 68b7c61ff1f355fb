/**
 * Bad input end to end: a corpus of bad records sent raw (producer `sendRaw`) through the local cloud, mixed
 * with good ones. Every bad record lands in the quarantine archive once, with its reason, original bytes,
 * shard and sequence number (listed by `shardline quarantine`'s reader); the good ones behind them are
 * aggregated, so the shard is never blocked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listQuarantine } from '../../cli/commands/quarantine.ts';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import { encodeEnvelope } from '../../common/envelope.ts';
import { LocalCloud } from '../../infra/local/cloud.ts';
import { Producer } from '../../producers/sdk/producer.ts';
import { readStatus } from '../../queries/status.ts';

const now = Date.now();
const good = (i: number) =>
  encodeEnvelope({
    v: 1,
    eventId: `good-${i}`,
    source: `device-${i % 3}`,
    type: 'telemetry',
    ts: now - 1000,
    metrics: { temperature: 20 + i },
    dims: { site: 'berlin' },
  });
const enc = (s: string) => new TextEncoder().encode(s);
const KPL_MAGIC = [0xf3, 0x89, 0x9a, 0xc2];

/** Bad records and the reason each must be quarantined with. */
const CORPUS: { name: string; data: Uint8Array; reason: string }[] = [
  { name: 'malformed json', data: enc('{"v":1,"eventId":'), reason: 'invalid_json' },
  { name: 'invalid utf-8', data: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), reason: 'invalid_utf8' },
  {
    name: 'wrong types',
    data: enc(JSON.stringify({ v: 1, eventId: 'x1', source: 7, type: 'telemetry', ts: now })),
    reason: 'schema_violation',
  },
  {
    name: 'non-finite number',
    data: enc(`{"v":1,"eventId":"x2","source":"d","type":"t","ts":${now},"metrics":{"a":1e999}}`),
    reason: 'schema_violation',
  },
  { name: 'missing fields', data: enc(JSON.stringify({ v: 1, eventId: 'x3' })), reason: 'schema_violation' },
  {
    name: 'oversize',
    data: enc(
      JSON.stringify({ v: 1, eventId: 'x4', source: 'd', type: 't', ts: now, pad: 'x'.repeat(40_000) }),
    ),
    reason: 'oversize',
  },
  {
    name: 'late',
    data: enc(JSON.stringify({ v: 1, eventId: 'x5', source: 'd', type: 't', ts: now - 3 * 3_600_000 })),
    reason: 'late',
  },
  {
    name: 'wrong version',
    data: enc(JSON.stringify({ v: 2, eventId: 'x6' })),
    reason: 'unsupported_version',
  },
  {
    name: 'KPL bad checksum',
    data: new Uint8Array([
      ...KPL_MAGIC,
      0x0a,
      0x01,
      0x6b,
      0x1a,
      0x04,
      0x08,
      0x00,
      0x1a,
      0x00,
      ...new Array(16).fill(7),
    ]),
    reason: 'kpl_invalid',
  },
];

describe('bad input through the local cloud', () => {
  it('quarantines every bad record with its reason and keeps the shard flowing', async () => {
    const config = resolveConfig({
      stream: { name: 'corpus', shardCount: 1 },
      table: { name: 'corpus-aggregates' },
      eventSource: { maximumBatchingWindowInSeconds: 0, batchSize: 5 },
      archive: { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 0 },
      quarantine: { bufferSizeMiB: 1, bufferIntervalSeconds: 0 },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'corpus-'));
    const cloud = await LocalCloud.start({
      config,
      dataDir,
      esmTuning: { pollIntervalMs: 20, shardDiscoveryIntervalMs: 100, retryBackoffMs: 1 },
      firehoseTuning: { pollIntervalMs: 50 },
    });
    const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
    const dynamodb = dynamodbClient(cloud.clientOptions('dynamodb'));
    try {
      // Each bad record as its own Kinesis record (inside a KPL aggregate it would be another input).
      const producer = new Producer({
        streamName: config.stream.name,
        lingerMs: 0,
        client: kinesis,
        aggregate: false,
      });
      let n = 0;
      for (const bad of CORPUS) {
        await producer.sendRaw(bad.data, `bad-${bad.name}`);
        await producer.sendRaw(enc(good(n)), `good-${n++}`);
      }
      await producer.close();
      await cloud.drain({ timeoutMs: 60_000 });

      const status = await readStatus(config, { kinesis, dynamodb });
      expect(status.totals.aggregated).toBe(CORPUS.length);
      expect(status.totals.quarantined).toBe(CORPUS.length);

      const list = await listQuarantine({ config, dataDir, limit: 1000 });
      expect(list.total).toBe(CORPUS.length);
      const byData = new Map(list.records.map((r) => [r.data, r]));
      for (const bad of CORPUS) {
        const record = byData.get(Buffer.from(bad.data.subarray(0, 512 * 1024)).toString('base64'));
        expect(record?.reason, bad.name).toBe(bad.reason);
        expect(record?.shardId).toBe('shardId-000000000000');
        expect(record?.sequenceNumber).toMatch(/^\d+$/);
        expect(record?.dataBytes).toBe(bad.data.length);
      }
      const late = await listQuarantine({ config, dataDir, reason: 'late' });
      expect(late.total).toBe(1);
      expect(late.records[0]?.reason).toBe('late');
    } finally {
      kinesis.destroy();
      dynamodb.destroy();
      await cloud.stop();
    }
  }, 60_000);
});
