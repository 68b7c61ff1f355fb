import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import type { ShardlineEvent } from '../../../common/envelope.ts';
import { startAthenaServer } from '../../../infra/local/athena/api.ts';
import { LocalAthena } from '../../../infra/local/athena/service.ts';
import { encodeState } from '../../../processors/core/state.ts';
import { athenaArchive } from '../../../queries/archive.ts';
import { athenaClient } from '../../../queries/athena/client.ts';
import { BACKFILL_SK, backfill, closedRange } from '../../../queries/backfill.ts';
import { reconcile } from '../../../queries/reconcile.ts';
import { quarantineRecord, writeArchive } from '../../helpers/archive.ts';
import { startTestDynamo, type TestDynamo } from '../../helpers/factories.ts';
import { putFoldedItems } from '../../helpers/processor.ts';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const NOW = T0 + 4 * 3_600_000; // every window of [T0, T0 + 2h) is closed
const config = resolveConfig({ table: { name: 'backfill-test' } });
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];
const RANGE = { from: T0, to: T0 + 2 * 3_600_000 };

function makeEvents(): ShardlineEvent[] {
  const sites = ['berlin', 'paris', 'o,#1'];
  return Array.from({ length: 150 }, (_, i): ShardlineEvent => {
    const telemetry = i % 3 !== 2;
    return {
      v: 1,
      eventId: `ev-${i}`,
      source: `device-${i % 4}`,
      type: telemetry ? 'telemetry' : 'click',
      ts: T0 + i * 41_000 + (i % 5),
      metrics: telemetry
        ? { temperature: 15.3 + i * 0.01 - (i % 7) * 0.1, humidity: 0.1 * i, battery: -0 }
        : {},
      dims: i % 7 === 6 ? {} : { site: sites[i % 3]! },
    };
  });
}

let dynamo: TestDynamo;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let dataDir: string;
const events = makeEvents();
const late = { ...events[10]!, eventId: 'late-1' };

async function putShardItems(rollupNames: readonly string[]): Promise<string[]> {
  const pks: string[] = [];
  for (const [s, shardId] of SHARDS.entries()) {
    const mine = events.filter((_, i) => i % SHARDS.length === s);
    pks.push(...(await putFoldedItems(client, config, shardId, mine, { rollups: rollupNames, now: T0 })));
  }
  return pks;
}

async function scanTable(): Promise<string[]> {
  const out = await client.send(new ScanCommand({ TableName: config.table.name }));
  return (out.Items ?? []).map((i) => JSON.stringify(Object.entries(i).sort())).sort();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'backfill-test-'));
  dynamo = await startTestDynamo(config.table.name);
  client = dynamo.client;
  doc = DynamoDBDocumentClient.from(client);
  await writeArchive({
    dataDir,
    events: [
      ...events.map((event, i) => ({
        event,
        copies: i % 4 === 0 ? 2 : 1,
        arrival: event.ts + (i % 9) * 20_000,
      })),
      { event: late, arrival: late.ts + 2 * 3_600_000 },
    ],
    quarantine: [quarantineRecord(late, 'late', late.ts + 2 * 3_600_000)],
  });
});

afterAll(async () => {
  await dynamo?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('closedRange', () => {
  it('keeps only windows whose end is before the cutoff and reports the open rest', () => {
    const cutoff = T0 + 29 * 60_000;
    expect(closedRange('1m', T0, T0 + 3_600_000, cutoff)).toEqual({
      lo: T0,
      hi: T0 + 28 * 60_000,
      openFrom: T0 + 28 * 60_000,
      openTo: T0 + 3_600_000,
    });
    expect(closedRange('1h', T0 + 1, T0 + 2, cutoff)).toEqual({
      lo: T0,
      hi: T0,
      openFrom: T0,
      openTo: T0 + 3_600_000,
    });
    expect(closedRange('1m', T0 + 1, T0 + 2, T0 + 61_000)).toEqual({
      lo: T0,
      hi: T0 + 60_000,
      openFrom: null,
      openTo: T0 + 60_000,
    });
  });
});

describe('backfill', () => {
  it('fixes wrong, missing and stray aggregates and builds a new rollup; reconcile passes; a second run changes nothing', async () => {
    // GIVEN correct shard items for two rollups, then a wrong one, a missing one and a stray one;
    // device_temperature is a "new rollup" with no items at all.
    const pks = await putShardItems(['site_telemetry', 'events_by_type']);
    const wrong = pks.find((p) => p.startsWith('events_by_type#1h#telemetry#'))!;
    await doc.send(
      new PutCommand({
        TableName: config.table.name,
        Item: {
          pk: wrong,
          sk: SHARDS[0],
          rollup: 'events_by_type',
          window: '1h',
          dims: 'telemetry',
          windowStart: T0,
          count: 999,
          state: encodeState({ count: 999, metrics: {} }),
          wm: '9',
          gpk: 'events_by_type#1h',
          gsk: `${new Date(T0).toISOString()}#telemetry#${SHARDS[0]}`,
          ttl: 1,
          updatedAt: T0,
        },
      }),
    );
    const missing = pks.find((p) => p.startsWith('site_telemetry#1m#berlin#'))!;
    for (const sk of SHARDS)
      await doc.send(new DeleteCommand({ TableName: config.table.name, Key: { pk: missing, sk } }));
    const strayStart = new Date(T0 + 90 * 60_000 + 30_000).toISOString().replace(':30.000Z', ':00.000Z');
    await doc.send(
      new PutCommand({
        TableName: config.table.name,
        Item: {
          pk: `site_telemetry#1m#nowhere#${strayStart}`,
          sk: SHARDS[1],
          rollup: 'site_telemetry',
          window: '1m',
          dims: 'nowhere',
          windowStart: Date.parse(strayStart),
          count: 1,
          state: encodeState({ count: 1, metrics: {} }),
          wm: '1',
          gpk: 'site_telemetry#1m',
          gsk: `${strayStart}#nowhere#${SHARDS[1]}`,
          ttl: 1,
          updatedAt: T0,
        },
      }),
    );
    const before = await reconcile({ config, dataDir, client, ...RANGE });
    expect(before.ok).toBe(false);

    // A dry run reports the same changes and writes nothing.
    const table0 = await scanTable();
    const dry = await backfill({ config, dataDir, client, ...RANGE, now: NOW, dryRun: true });
    expect(await scanTable()).toEqual(table0);
    // Athena (the local one, through the real client) reads the archive as DuckDB does: the same changes.
    const athena = await startAthenaServer(new LocalAthena({ config, dataDir, resultsBucket: 'results' }));
    const athenaSdk = athenaClient({ endpoint: athena.endpoint, region: config.region });
    try {
      const viaAthena = await backfill({
        config,
        archive: athenaArchive({ client: athenaSdk, config }),
        client,
        ...RANGE,
        now: NOW,
        dryRun: true,
      });
      expect(viaAthena.changes).toEqual(dry.changes);
      expect(viaAthena.eventsRead).toBe(dry.eventsRead);
    } finally {
      athenaSdk.destroy();
      await athena.close();
    }

    // WHEN
    const report = await backfill({ config, dataDir, client, ...RANGE, now: NOW });

    // THEN
    expect(dry.changes).toEqual(report.changes);
    expect(report.segments.every((s) => s.skippedOpen === null && s.rebuilt !== null)).toBe(true);
    expect(report.eventsRead).toBeGreaterThan(0);
    const find = (pkStart: string, ws: number) =>
      report.changes.find(
        (c) =>
          pkStart.startsWith(`${c.rollup}#${c.window}#`) &&
          c.windowStart === new Date(ws).toISOString() &&
          pkStart.includes(`#${Object.values(c.dims).join(',')}#`),
      );
    const telemetryInHour = events.filter((e) => e.type === 'telemetry' && e.ts < T0 + 3_600_000).length;
    const fixed = find(wrong, T0);
    expect(fixed).toMatchObject({
      action: 'rebuilt',
      drift: true,
      countAfter: telemetryInHour,
      itemsDeleted: 2,
    });
    expect(fixed!.countBefore).toBeGreaterThan(999);
    expect(
      report.changes.find((c) => c.rollup === 'site_telemetry' && c.dims.site === 'nowhere'),
    ).toMatchObject({
      action: 'removed',
      drift: true,
      itemsDeleted: 1,
    });
    const created = report.changes.filter((c) => c.action === 'created');
    expect(created.some((c) => c.rollup === 'device_temperature')).toBe(true);
    expect(created.some((c) => c.rollup === 'site_telemetry' && c.dims.site === 'berlin')).toBe(true);
    // Correct shard items are replaced without counting as drift.
    const layoutOnly = report.changes.filter((c) => c.action === 'rebuilt' && !c.drift);
    expect(layoutOnly.length).toBeGreaterThan(10);
    expect(report.driftsFixed).toBe(report.changes.filter((c) => c.drift).length);
    expect(report.driftsFixed).toBeGreaterThanOrEqual(3);
    expect(report.keysRemoved).toBe(1);
    expect(report.warnings).toEqual([]);

    const after = await reconcile({ config, dataDir, client, ...RANGE });
    expect(after.drifts).toEqual([]);
    expect(after.ok).toBe(true);
    expect(after.windowsChecked).toBeGreaterThan(0);

    // One backfill item per key; no shard items left in the range.
    const items = (await client.send(new ScanCommand({ TableName: config.table.name }))).Items ?? [];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.sk?.S === BACKFILL_SK && i.wm?.S === BACKFILL_SK)).toBe(true);
    expect(new Set(items.map((i) => i.pk?.S)).size).toBe(items.length);

    // Idempotent.
    const table1 = await scanTable();
    const again = await backfill({ config, dataDir, client, ...RANGE, now: NOW });
    expect(await scanTable()).toEqual(table1);
    expect(again.changes).toEqual([]);
    expect(again.keysUnchanged).toBe(again.keysChecked);
    expect(again.keysChecked).toBe(items.length);
  });

  it('skips open windows and says so', async () => {
    const now = T0 + 90 * 60_000; // cutoff = now - 3600 s lateness - 60 s buffer = T0 + 29 min
    const table = await scanTable();
    const report = await backfill({
      config,
      dataDir,
      client,
      ...RANGE,
      now,
      dryRun: true,
      rollups: ['site_telemetry'],
    });
    expect(await scanTable()).toEqual(table);
    expect(report.closedBefore).toBe(new Date(T0 + 29 * 60_000).toISOString());
    const m1 = report.segments.find((s) => s.window === '1m')!;
    expect(m1.rebuilt).toEqual({
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 28 * 60_000).toISOString(),
    });
    expect(m1.skippedOpen).toEqual({
      from: new Date(T0 + 28 * 60_000).toISOString(),
      to: new Date(T0 + 2 * 3_600_000).toISOString(),
    });
    expect(report.segments.find((s) => s.window === '1h')!.rebuilt).toBeNull();
    expect(report.warnings.join('\n')).toMatch(/site_telemetry 1h: skipped open windows/);
  });

  it('rejects a bad range or rollup with the value received', async () => {
    await expect(backfill({ config, dataDir, client, from: T0, to: T0, now: NOW })).rejects.toThrow(
      /from must be before to; received from=\d+ to=\d+/,
    );
    await expect(backfill({ config, dataDir, client, ...RANGE, rollups: ['nope'] })).rejects.toThrow(
      /received "nope"/,
    );
  });
});
