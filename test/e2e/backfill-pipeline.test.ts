/**
 * A short local pipeline (kinesalite → event source mapping → processor → dynalite, and the local Firehose
 * writing Parquet in hour partitions), then: every catalog query runs on DuckDB over the archive and returns
 * rows; and a backfill of the (force-closed) range rebuilds every aggregate, after which reconcile passes.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import type { LocalCloud } from '../../infra/local/index.ts';
import { produce } from '../../producers/index.ts';
import { backfill, loadCatalog, reconcile, runQuery } from '../../queries/index.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';

const config = resolveConfig({ stream: { shardCount: 2 } });
let test: TestCloud;
let dataDir: string;
let cloud: LocalCloud;
let startedAt: number;
let endedAt: number;

beforeAll(async () => {
  test = await startTestCloud(config, 'backfill-e2e');
  ({ cloud, dataDir } = test);
  startedAt = Date.now();
  for (const [scenario, seed] of [
    ['iot', 7],
    ['web', 8],
  ] as const) {
    await produce({
      client: test.kinesis,
      streamName: config.stream.name,
      scenario,
      count: 3_000,
      rate: 3_000,
      seed,
      invalidRate: 0.01,
    });
  }
  await cloud.drain({ timeoutMs: 60_000 });
  endedAt = Date.now();
}, 120_000);

afterAll(async () => {
  await test?.stop();
});

describe('catalog on a pipeline archive', () => {
  it('archives Parquet in hour partitions', () => {
    const raw = join(dataDir, 's3', config.archive.bucket, 'raw');
    const parts = readdirSync(raw);
    expect(parts.length).toBeGreaterThan(0);
    for (const p of parts) {
      expect(p).toMatch(/^dt=\d{4}-\d{2}-\d{2}-\d{2}$/);
      expect(readdirSync(join(raw, p)).every((f) => f.endsWith('.parquet'))).toBe(true);
    }
  });

  it('runs every catalog query with rows and a scan report', async () => {
    const empty: string[] = [];
    for (const q of loadCatalog()) {
      const params: Record<string, string> = {};
      for (const p of q.params) {
        if (p.name === 'from') params.from = new Date(startedAt - 3_600_000).toISOString();
        if (p.name === 'to') params.to = new Date(endedAt + 3_600_000).toISOString();
      }
      const r = await runQuery({ query: q.name, params, config, dataDir });
      expect(r.stats.bytesScanned).toBeGreaterThan(0);
      expect(r.stats.cost.billedBytes).toBeGreaterThan(0);
      if (r.rows.length === 0) empty.push(q.name);
    }
    expect(empty).toEqual([]);
  });
});

describe('backfill on a pipeline', () => {
  it('rebuilds every aggregate of the range from the archive; reconcile passes; a second run changes nothing', async () => {
    const client = dynamodbClient(cloud.clientOptions('dynamodb'));
    try {
      const from = startedAt - 3_600_000;
      const to = endedAt + 60_000;
      // Pretend the lateness has passed so every window of the run is closed.
      const now =
        to +
        (config.processing.allowedLatenessSeconds + config.archive.bufferIntervalSeconds) * 1000 +
        7_200_000;
      const first = await backfill({ config, dataDir, client, from, to, now });
      expect(first.segments.every((s) => s.skippedOpen === null)).toBe(true);
      expect(first.keysWritten).toBeGreaterThan(0);
      expect(first.driftsFixed).toBe(0); // the pipeline was exact: only the item layout changed
      expect(first.itemsDeleted).toBeGreaterThanOrEqual(first.keysWritten);
      const report = await reconcile({ config, dataDir, client, from, to, now });
      expect(report.pending).toEqual([]);
      expect(report.drifts).toEqual([]);
      expect(report.windowsChecked).toBe(first.keysChecked);
      const second = await backfill({ config, dataDir, client, from, to, now });
      expect(second.changes).toEqual([]);
      expect(second.keysUnchanged).toBe(first.keysWritten);
    } finally {
      client.destroy();
    }
  });
});
