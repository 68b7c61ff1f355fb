/**
 * Web traffic end to end: the load generator's web scenario (Kinesis PutRecords) and a Node-side web SDK
 * tracker (through the local ingest endpoint) into a local cloud; the events_by_type aggregates must
 * equal an independent fold of exactly what was accepted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import { LocalCloud } from '../../infra/local/cloud.ts';
import { produce } from '../../producers/produce.ts';
import { createTracker } from '../../producers/web/index.ts';
import { readAggregates } from '../../queries/aggregates.ts';

const config = resolveConfig({
  stream: { name: 'web-e2e', shardCount: 2 },
  table: { name: 'web-e2e-aggregates' },
  eventSource: { maximumBatchingWindowInSeconds: 0 },
  // the types the tracker below sends through the (public) ingest endpoint
  ingest: { webEventTypes: ['pageview', 'click', 'sdk_only'] },
});
const dataDir = mkdtempSync(join(tmpdir(), 'web-e2e-'));
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start({
    config,
    dataDir,
    firehose: false,
    esmTuning: { pollIntervalMs: 25, shardDiscoveryIntervalMs: 200, retryBackoffMs: 5 },
  });
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const WINDOW_MS = { '1m': 60_000, '1h': 3_600_000 } as const;

describe('web events end to end', () => {
  it('aggregates exactly the events the generator and the ingest endpoint accepted', async () => {
    // Act: 3 s of the web scenario straight to Kinesis...
    const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
    const { report, records } = await produce({
      client: kinesis,
      streamName: cloud.streamName,
      scenario: 'web',
      rate: 500,
      durationSeconds: 3,
      seed: 7,
      collect: true,
    }).finally(() => kinesis.destroy());
    // ...and SDK events through POST /ingest.
    const tracked: { type: string; ts: number }[] = [];
    const now = Date.now();
    const tracker = createTracker({
      endpoint: cloud.ingestUrl!,
      storage: null,
      maxBatch: 50,
      now: () => now,
    });
    for (let i = 0; i < 120; i++) {
      const type = ['pageview', 'click', 'sdk_only'][i % 3]!;
      tracker.track(type, { dims: { page: '/e2e' } });
      tracked.push({ type, ts: now });
    }
    await tracker.close();
    await cloud.drain({ timeoutMs: 45_000 });

    // Assert: delivery...
    expect(report).toMatchObject({ failed: 0, emitted: 1500 });
    expect(report.accepted).toBe(report.sent);
    expect(tracker.stats()).toMatchObject({ sent: 120, failed: 0 });
    // ...and an independent fold of everything accepted equals the aggregates, window by window.
    const expected = new Map<string, number>();
    const events = [
      ...records.map((r) => {
        expect(r.event).not.toBeNull();
        return { type: r.event!.type, ts: r.event!.ts };
      }),
      ...tracked,
    ];
    for (const e of events) {
      for (const [w, ms] of Object.entries(WINDOW_MS)) {
        const key = `${w}|${e.type}|${new Date(Math.floor(e.ts / ms) * ms).toISOString()}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
    }
    const ddb = dynamodbClient(cloud.clientOptions('dynamodb'));
    const rows = await readAggregates(ddb, config, { rollup: 'events_by_type' });
    ddb.destroy();
    const actual = new Map(rows.map((r) => [`${r.window}|${r.dims.type}|${r.windowStart}`, r.count]));
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
    expect(events.length).toBe(1620);
  });
});
