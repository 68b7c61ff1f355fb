/**
 * Freshness end to end on the local cloud: with a tumbling window, the live rollups' finest windows are in
 * DynamoDB as soon as their batch is processed, the onClose rollups and coarser windows only once the
 * window closes; then everything equals the per-event fold of what was produced.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient } from '../../common/aws.ts';
import { DEFAULT_ROLLUPS, resolveConfig } from '../../common/config.ts';
import { toPosition } from '../../processors/core/position.ts';
import { produce } from '../../producers/produce.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { expectedAggregates, readMergedAggregates } from '../helpers/processor.ts';

const config = resolveConfig({
  stream: { shardCount: 1, name: 'tumbling-e2e' },
  table: { name: 'tumbling-e2e' },
  eventSource: { tumblingWindowInSeconds: 900, maximumBatchingWindowInSeconds: 0 },
  rollups: DEFAULT_ROLLUPS.map((r) => ({ ...r })),
});

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud(config, 'tumbling', { firehose: false, ingest: false });
});
afterAll(async () => t?.stop());

describe('tumbling windows end to end', () => {
  it('writes live windows per batch, carried ones when the window closes, and ends exact', async () => {
    const { records, failures } = await produce({
      client: t.kinesis,
      streamName: config.stream.name,
      rate: 2000,
      count: 400,
      devices: 25,
    });
    expect(failures).toEqual([]);
    await t.cloud.esm?.drain({ timeoutMs: 30_000 });
    const ddb = dynamodbClient(t.cloud.clientOptions('dynamodb'));
    const kinds = async () => {
      const out = await ddb.send(new ScanCommand({ TableName: config.table.name, ConsistentRead: true }));
      return new Set((out.Items ?? []).map((i) => `${i.rollup?.S}#${i.window?.S}`));
    };
    try {
      const before = await kinds();
      // Live: the finest window of each live rollup is there already.
      expect(before).toContain('site_telemetry#1m');
      expect(before).toContain('events_by_type#1m');
      // Carried: onClose rollups and the coarser windows of live ones are not, until the window closes.
      expect(before).not.toContain('device_temperature#1h');
      expect(before).not.toContain('active_devices#1h');
      expect(before).not.toContain('site_telemetry#1h');
      await t.cloud.esm?.closeWindows();
      const after = await kinds();
      expect(after).toContain('device_temperature#1h');
      expect(after).toContain('site_telemetry#1h');
      const inputs = records.map((r, i) => {
        if (r.event === null) throw new Error(`record ${i} is not a valid event`);
        return { position: toPosition(r.sequenceNumber), event: r.event };
      });
      expect(await readMergedAggregates(ddb, config)).toEqual(expectedAggregates(config, inputs));
    } finally {
      ddb.destroy();
    }
  });
});
