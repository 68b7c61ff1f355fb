/**
 * Sketch rollups end to end: the synthetic fleet through kinesalite, the local event source mapping, the
 * real processor, dynalite and the local Firehose, with a p99 rollup and distinct-count rollups (one beyond
 * the HLL's exact range). Aggregates must equal an independent fold bit for bit (quantiles included), and
 * reconcile must find them within the declared bounds of the exact SQL values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import type { LocalCloud } from '../../infra/local/index.ts';
import { toPosition } from '../../processors/core/position.ts';
import { EXACT_LIMIT } from '../../processors/core/sketch/hll.ts';
import { type ProduceResult, produce } from '../../producers/index.ts';
import { readAggregates, reconcile } from '../../queries/index.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { expectedAggregates, readMergedAggregates } from '../helpers/processor.ts';

const config = resolveConfig({
  stream: { shardCount: 2 },
  rollups: [
    {
      name: 'temperature_p99',
      eventType: 'telemetry',
      metrics: ['temperature', 'humidity'],
      by: ['dims.site'],
      windows: ['1m', '1h'],
      stats: ['count', 'min', 'max', 'p50', 'p90', 'p99'],
    },
    {
      name: 'fleet_devices',
      eventType: 'telemetry',
      windows: ['1h', '1d'],
      stats: ['count', 'distinct:source'],
    },
    {
      name: 'site_devices',
      eventType: 'telemetry',
      by: ['dims.site'],
      windows: ['1h'],
      stats: ['count', 'distinct:source', 'distinct:eventId'],
    },
  ],
});
let test: TestCloud;
let dataDir: string;
let cloud: LocalCloud;
let produced: ProduceResult;
let startedAt: number;

beforeAll(async () => {
  test = await startTestCloud(config, 'sketches');
  ({ cloud, dataDir } = test);
  startedAt = Date.now();
  produced = await produce({
    client: test.kinesis,
    streamName: config.stream.name,
    count: 6_000,
    rate: 6_000,
    devices: 1_500,
    seed: 7,
  });
  await cloud.drain({ timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  await test?.stop();
});

describe('sketch rollups through the local pipeline', () => {
  it('equal an independent fold, quantiles and distinct counts included', async () => {
    expect(produced.report.failed).toBe(0);
    const inputs = produced.records.map((r) => {
      if (!r.event) throw new Error('the fleet produced an invalid event');
      return { position: toPosition(r.sequenceNumber), event: r.event };
    });
    const client = dynamodbClient(cloud.clientOptions('dynamodb'));
    try {
      const actual = await readMergedAggregates(client, config);
      expect(actual).toEqual(expectedAggregates(config, inputs));
      const fleet = await readAggregates(client, config, { rollup: 'fleet_devices', window: '1d' });
      const total = fleet.reduce((a, r) => a + r.distinct!.source!, 0);
      // Beyond the exact range: the registers (and the 4-standard-error bound) are exercised.
      expect(total).toBeGreaterThan(EXACT_LIMIT);
      const p99 = await readAggregates(client, config, { rollup: 'temperature_p99', window: '1h' });
      expect(p99.some((r) => typeof r.metrics.temperature?.p99 === 'number')).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('reconcile passes within the declared bounds', async () => {
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
      expect(report.rollupsChecked).toBe(3);
      expect(report.windowsChecked).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});
