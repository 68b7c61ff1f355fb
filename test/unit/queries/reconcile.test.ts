import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import type { ShardlineEvent } from '../../../common/envelope.ts';
import { tableDefinition } from '../../../common/table.ts';
import { foldBatch } from '../../../processors/core/fold.ts';
import { compileRollups } from '../../../processors/core/rollup.ts';
import { decodeState, encodeState } from '../../../processors/core/state.ts';
import { readAggregates, readShardCheckpoints } from '../../../queries/aggregates.ts';
import { compareAggregates, reconcile } from '../../../queries/reconcile.ts';
import { quarantineRecord, writeArchive } from '../../helpers/archive.ts';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const config = resolveConfig({ table: { name: 'agg-test' } });
const SHARDS = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];

function makeEvents(): ShardlineEvent[] {
  const out: ShardlineEvent[] = [];
  const sites = ['berlin', 'paris', "o'hare,#1"];
  for (let i = 0; i < 120; i++) {
    const telemetry = i % 3 !== 2;
    out.push({
      v: 1,
      eventId: `ev-${i}`,
      source: `device-${i % 5}`,
      type: telemetry ? 'telemetry' : 'pageview',
      ts: T0 + i * 37_000 + (i % 7),
      metrics: telemetry
        ? i % 4 === 0
          ? { temperature: 20 + (i % 9) * 0.1 }
          : { temperature: 15.3 + i * 0.01, humidity: 40 + (i % 11) / 3, battery: 0.9 - i / 1000 }
        : {},
      dims: i % 6 === 5 ? {} : { site: sites[i % 3]! },
    });
  }
  return out;
}

let server: Server;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let dataDir: string;
const events = makeEvents();
// Two events the processor quarantined (late / future): archived, never aggregated.
const late = { ...events[10]!, eventId: 'late-1' };
const future = { ...events[11]!, eventId: 'future-1' };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'reconcile-test-'));
  const dynalite = createRequire(import.meta.url)('dynalite') as (o: object) => Server;
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  doc = DynamoDBDocumentClient.from(client);
  await client.send(new CreateTableCommand(tableDefinition(config.table.name)));

  // Fold each shard's events as the processor would, one item per (aggregate, shard).
  const rollups = compileRollups(config.rollups);
  for (const [s, shardId] of SHARDS.entries()) {
    const mine = events.filter((_, i) => i % SHARDS.length === s);
    const inputs = mine.map((event, i) => ({ position: String(i + 1).padStart(129, '0'), event }));
    for (const delta of foldBatch(rollups, inputs).values()) {
      const iso = new Date(delta.key.windowStart).toISOString();
      await doc.send(
        new PutCommand({
          TableName: config.table.name,
          Item: {
            pk: delta.pk,
            sk: shardId,
            rollup: delta.key.rollup,
            window: delta.key.window,
            dims: delta.key.dims,
            windowStart: delta.key.windowStart,
            count: delta.state.count,
            state: encodeState(delta.state),
            wm: delta.hi,
            gpk: `${delta.key.rollup}#${delta.key.window}`,
            gsk: `${iso}#${delta.key.dims}#${shardId}`,
            ttl: Math.floor(T0 / 1000) + 86_400,
            updatedAt: T0,
          },
        }),
      );
    }
    await doc.send(
      new PutCommand({
        TableName: config.table.name,
        Item: {
          pk: '_shards',
          sk: shardId,
          aggregated: mine.length,
          quarantined: 1,
          late: 1,
          records: mine.length + 1,
          reasons: '{"late":1}',
          wm: '1',
          lastArrival: T0,
          updatedAt: T0,
        },
      }),
    );
  }
  await writeArchive({
    dataDir,
    events: [
      // Every 4th event archived twice (redelivery), some arriving in the next hour.
      ...events.map((event, i) => ({
        event,
        copies: i % 4 === 0 ? 2 : 1,
        arrival: event.ts + (i % 10) * 30_000,
      })),
      { event: late, arrival: late.ts + 2 * 3_600_000 },
      { event: future, arrival: future.ts - 600_000 },
    ],
    quarantine: [
      quarantineRecord(late, 'late', late.ts + 2 * 3_600_000),
      quarantineRecord(future, 'future_timestamp', future.ts - 600_000),
      quarantineRecord(null, 'invalid_json', T0),
    ],
  });
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('readAggregates', () => {
  it('merges the shard items of each aggregate', async () => {
    const rows = await readAggregates(client, config, { rollup: 'events_by_type', window: '1h' });
    const byType = Object.fromEntries(rows.map((r) => [`${r.windowStart}|${r.dims.type}`, r]));
    const expected = new Map<string, number>();
    const shards = new Map<string, Set<number>>();
    for (const [i, e] of events.entries()) {
      const k = `${new Date(Math.floor(e.ts / 3_600_000) * 3_600_000).toISOString()}|${e.type}`;
      expected.set(k, (expected.get(k) ?? 0) + 1);
      shards.set(k, (shards.get(k) ?? new Set()).add(i % SHARDS.length));
    }
    expect(Object.keys(byType).sort()).toEqual([...expected.keys()].sort());
    for (const [k, n] of expected) {
      expect(byType[k]!.count).toBe(n);
      expect(byType[k]!.shards).toBe(shards.get(k)!.size);
    }
  });

  it('restricts by time range and dims through the GSI', async () => {
    const from = T0 + 10 * 60_000;
    const to = T0 + 20 * 60_000;
    const rows = await readAggregates(client, config, {
      rollup: 'site_telemetry',
      window: '1m',
      from,
      to,
      dims: { site: 'berlin' },
    });
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(Date.parse(r.windowStart)).toBeGreaterThanOrEqual(from);
      expect(Date.parse(r.windowStart)).toBeLessThan(to);
      expect(r.dims).toEqual({ site: 'berlin' });
    }
    const want = events.filter(
      (e) => e.type === 'telemetry' && e.dims.site === 'berlin' && e.ts >= from && e.ts < to,
    );
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(want.length);
    const temps = want.map((e) => e.metrics.temperature!);
    expect(Math.max(...rows.map((r) => r.metrics.temperature!.max!))).toBe(Math.max(...temps));
  });

  it('rejects an unknown rollup or window with the value received', async () => {
    await expect(readAggregates(client, config, { rollup: 'nope' })).rejects.toThrow(/received "nope"/);
    await expect(
      readAggregates(client, config, { rollup: 'device_temperature', window: '1m' }),
    ).rejects.toThrow(/window must be one of 1h .*received "1m"/);
  });

  it('reads shard checkpoints', async () => {
    const cps = await readShardCheckpoints(client, config);
    expect(cps.map((c) => c.shardId)).toEqual(SHARDS);
    expect(cps[0]!.reasons).toEqual({ late: 1 });
  });
});

describe('reconcile', () => {
  const from = T0;
  const to = T0 + 2 * 3_600_000;

  it('finds no drift when the aggregates fold exactly the archived events', async () => {
    const report = await reconcile({ config, dataDir, client, from, to });
    expect(report.drifts).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rollupsChecked).toBe(3);
    expect(report.windowsChecked).toBeGreaterThan(100);
  });

  it('reports exactly the perturbed field of the perturbed aggregate', async () => {
    const rows = await readAggregates(doc, config, {
      rollup: 'site_telemetry',
      window: '1h',
      dims: { site: 'paris' },
    });
    const target = rows[0]!;
    const pk = `site_telemetry#1h#paris#${target.windowStart}`;
    const { Item } = await doc.send(
      new GetCommand({ TableName: config.table.name, Key: { pk, sk: SHARDS[1]! } }),
    );
    const state = decodeState(String(Item!.state));
    const original = state.metrics.humidity!.max;
    state.metrics.humidity!.max = original + 1;
    await doc.send(
      new UpdateCommand({
        TableName: config.table.name,
        Key: { pk, sk: SHARDS[1]! },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':s': encodeState(state) },
      }),
    );
    const report = await reconcile({ config, dataDir, client, from, to });
    expect(report.ok).toBe(false);
    expect(report.drifts).toEqual([
      {
        rollup: 'site_telemetry',
        window: '1h',
        dims: { site: 'paris' },
        windowStart: target.windowStart,
        field: 'metrics.humidity.max',
        archive: target.metrics.humidity!.max,
        aggregates: original + 1,
      },
    ]);
  });
});

describe('compareAggregates', () => {
  const base = {
    window: '1m' as const,
    dims: { site: 'a' },
    dimsKey: 'a',
    windowStart: '2026-01-01T00:00:00.000Z',
  };
  const metric = { count: 2, sum: 0.30000000000000004, min: 0.1, max: 0.2 };
  it('accepts a sum within the relative tolerance and reports counts exactly', () => {
    const archive = [{ ...base, count: 2, metrics: { x: { ...metric, sum: 0.3, sumAbs: 0.3 } } }];
    const stored = [{ ...base, rollup: 'r', count: 2, shards: 1, metrics: { x: { ...metric, avg: 0.15 } } }];
    expect(compareAggregates('r', archive, stored).drifts).toEqual([]);
    expect(compareAggregates('r', archive, stored, 0).drifts.map((d) => d.field)).toEqual(['metrics.x.sum']);
    const missing = compareAggregates('r', archive, []);
    expect(missing.windowsChecked).toBe(1);
    expect(missing.drifts).toEqual([
      {
        rollup: 'r',
        window: '1m',
        dims: { site: 'a' },
        windowStart: base.windowStart,
        field: 'count',
        archive: 2,
        aggregates: null,
      },
    ]);
  });
});
