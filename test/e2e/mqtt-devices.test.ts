/**
 * Devices over MQTT end to end: the synthetic fleet, one MQTT connection per device (producers/iot),
 * through the local broker and its topic rule into the stream, the processor and the archive. The
 * aggregates must equal an independent fold of exactly the events the broker acknowledged, reconcile must
 * agree with the archive, and every injected malformed record is accounted for (rule or processor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQuarantine } from '../../cli/commands/quarantine.ts';
import { dynamodbClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import { deviceMapping } from '../../common/iot.ts';
import { type FleetResult, produceOverMqtt } from '../../producers/iot/index.ts';
import { reconcile } from '../../queries/index.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { expectedAggregates, readCheckpoints, readMergedAggregates } from '../helpers/processor.ts';

const config = resolveConfig({
  stream: { name: 'mqtt-e2e', shardCount: 2 },
  table: { name: 'mqtt-e2e-aggregates' },
  quarantine: { bufferIntervalSeconds: 0 },
});
let t: TestCloud;
let fleet: FleetResult;
let startedAt: number;

beforeAll(async () => {
  t = await startTestCloud(config, 'mqtt-e2e');
  startedAt = Date.now();
  fleet = await produceOverMqtt({
    url: t.cloud.mqtt!.url,
    mapping: deviceMapping(config.iot),
    count: 3000,
    rate: 3000,
    devices: 40,
    seed: 11,
    invalidRate: 0.02,
  });
  await t.cloud.drain({ timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  await t?.stop();
});

describe('devices over MQTT', () => {
  it('has every message acknowledged by the broker, one connection per device', () => {
    expect(fleet.report).toMatchObject({ emitted: 3000, sent: 3000, failed: 0, devices: 40 });
    expect(fleet.report.invalid).toBeGreaterThan(0);
    expect(fleet.events).toHaveLength(fleet.report.events);
  });

  it('aggregates exactly the acknowledged events and accounts for every malformed one', async () => {
    const client = dynamodbClient(t.cloud.clientOptions('dynamodb'));
    try {
      const inputs = fleet.events.map((event) => ({ event }));
      expect(await readMergedAggregates(client, config)).toEqual(expectedAggregates(config, inputs));
      const checkpoints = await readCheckpoints(client, config.table.name);
      const aggregated = checkpoints.reduce((a, c) => a + c.aggregated, 0);
      const quarantinedByProcessor = checkpoints.reduce((a, c) => a + c.quarantined, 0);
      const rule = t.cloud.mqtt!.rule.stats();
      const rejectedByRule = Object.values(rule.rejected).reduce((a, n) => a + (n ?? 0), 0);
      expect(aggregated).toBe(fleet.report.events);
      expect(quarantinedByProcessor + rejectedByRule).toBe(fleet.report.invalid);
      expect(rule.forwarded + rejectedByRule).toBe(3000);
      // What the rule rejected is in the quarantine archive, with its reason.
      const q = await listQuarantine({ config, dataDir: t.dataDir, limit: 10_000 });
      expect(q.records.filter((r) => r.shardId === 'mqtt')).toHaveLength(rejectedByRule);
      expect(q.total).toBe(quarantinedByProcessor + rejectedByRule);
    } finally {
      client.destroy();
    }
  });

  it('reconciles the aggregates with the archive', async () => {
    const client = dynamodbClient(t.cloud.clientOptions('dynamodb'));
    try {
      const report = await reconcile({
        config,
        dataDir: t.dataDir,
        client,
        from: startedAt - 3_600_000,
        to: Date.now() + 300_000,
      });
      expect(report.drifts).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.windowsChecked).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});
