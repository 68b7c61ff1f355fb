/**
 * The local pipeline end to end: 20,000 events from the synthetic fleet through kinesalite, the local event
 * source mapping, the real processor handler, dynalite and the local Firehose. Every aggregate must equal
 * an independent fold of exactly what Kinesis accepted, and reconcile must agree with the archive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import type { LocalCloud } from '../../infra/local/index.ts';
import { toPosition } from '../../processors/core/position.ts';
import { type ProduceResult, produce } from '../../producers/index.ts';
import { DuckDbEngine, reconcile } from '../../queries/index.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { expectedAggregates, readCheckpoints, readMergedAggregates } from '../helpers/processor.ts';

const config = resolveConfig({ stream: { shardCount: 4 } });
let test: TestCloud;
let dataDir: string;
let cloud: LocalCloud;
let produced: ProduceResult;
let startedAt: number;

beforeAll(async () => {
  test = await startTestCloud(config, 'e2e');
  ({ cloud, dataDir } = test);
  startedAt = Date.now();
  produced = await produce({
    client: test.kinesis,
    streamName: config.stream.name,
    count: 20_000,
    rate: 8_000,
    devices: 500,
    seed: 42,
    // One Kinesis record per event, routed by its device's key: 500 devices reach all 4 shards. (KPL
    // aggregates of up to 1 MiB would put these 20,000 events in a handful of records, on fewer shards.)
    kpl: false,
  });
  await cloud.drain({ timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  await test?.stop();
});

describe('the local pipeline', () => {
  it('delivers every produced record', () => {
    expect(produced.report.failed).toBe(0);
    expect(produced.report.sent).toBe(20_000);
    expect(new Set(produced.records.map((r) => r.shardId)).size).toBe(4);
  });

  it('aggregates equal an independent fold of what Kinesis accepted', async () => {
    const inputs = produced.records.map((r) => {
      if (!r.event) throw new Error('the fleet produced an invalid event');
      return { position: toPosition(r.sequenceNumber), event: r.event };
    });
    const client = dynamodbClient(cloud.clientOptions('dynamodb'));
    try {
      const actual = await readMergedAggregates(client, config);
      const expected = expectedAggregates(config, inputs);
      expect(Object.keys(actual).length).toBe(Object.keys(expected).length);
      expect(actual).toEqual(expected);
      const checkpoints = await readCheckpoints(client, config.table.name);
      expect(checkpoints).toHaveLength(4);
      expect(checkpoints.reduce((a, c) => a + c.aggregated, 0)).toBe(20_000);
      expect(checkpoints.reduce((a, c) => a + c.quarantined, 0)).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it('archives every event as Parquet in hour partitions and reconciles with the aggregates', async () => {
    const engine = await DuckDbEngine.open({ dataDir, config });
    try {
      const res = await engine.run(
        `SELECT count(DISTINCT eventid) AS n, min(dt) AS dt FROM ${config.archive.tableName}`,
      );
      expect(Number(res.rows[0]!.n)).toBe(20_000);
      expect(String(res.rows[0]!.dt)).toMatch(/^\d{4}-\d{2}-\d{2}-\d{2}$/);
    } finally {
      await engine.close();
    }
    const client = dynamodbClient(cloud.clientOptions('dynamodb'));
    try {
      const report = await reconcile({
        config,
        dataDir,
        client,
        from: startedAt - 3_600_000,
        to: Date.now() + 300_000,
        // Drained above: every window is complete, so any difference is drift.
        drained: true,
      });
      expect(report.drifts).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.windowsChecked).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});
