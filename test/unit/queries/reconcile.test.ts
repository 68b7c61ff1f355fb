import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import type { ShardlineEvent } from '../../../common/envelope.ts';
import { stateFromAttribute } from '../../../processors/adapters/items.ts';
import { addDistinctValue, addQuantileValues, encodeState } from '../../../processors/core/state.ts';
import { readAggregates, readShardCheckpoints } from '../../../queries/aggregates.ts';
import { compareAggregates, reconcile, rollupSql, settledCutoff } from '../../../queries/reconcile.ts';
import { quarantineRecord, writeArchive } from '../../helpers/archive.ts';
import { startTestDynamo, type TestDynamo } from '../../helpers/factories.ts';
import { putFoldedItems } from '../../helpers/processor.ts';

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

let dynamo: TestDynamo;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let dataDir: string;
const events = makeEvents();
// Two events the processor quarantined (late / future): archived, never aggregated.
const late = { ...events[10]!, eventId: 'late-1' };
const future = { ...events[11]!, eventId: 'future-1' };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'reconcile-test-'));
  dynamo = await startTestDynamo(config.table.name);
  client = dynamo.client;
  doc = DynamoDBDocumentClient.from(client);

  // Fold each shard's events as the processor would, one item per (aggregate, shard).
  for (const [s, shardId] of SHARDS.entries()) {
    const mine = events.filter((_, i) => i % SHARDS.length === s);
    await putFoldedItems(client, config, shardId, mine, { now: T0 });
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
  await dynamo?.close();
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
    expect(report.rollupsChecked).toBe(6);
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
    const state = stateFromAttribute(Item!.state);
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

  it('reports a difference in a window that has not settled as pending, not drift', async () => {
    const drifted = (await reconcile({ config, dataDir, client, from, to })).drifts;
    expect(drifted).toHaveLength(1);
    const windowEnd = Date.parse(drifted[0]!.windowStart) + 3_600_000;
    const settleMs = (config.processing.allowedLatenessSeconds + config.archive.bufferIntervalSeconds) * 1000;
    // Just before the window settles: its events may still be buffered by Firehose or arrive late.
    const early = await reconcile({ config, dataDir, client, from, to, now: windowEnd + settleMs });
    expect(early.ok).toBe(true);
    expect(early.drifts).toEqual([]);
    expect(early.pending).toEqual(drifted);
    expect(early.windowsPending).toBe(1);
    expect(early.settledBefore).toBe(new Date(windowEnd).toISOString());
    // --settled-only leaves the unsettled windows out of the comparison.
    const settled = await reconcile({
      config,
      dataDir,
      client,
      from,
      to,
      now: windowEnd + settleMs,
      settledOnly: true,
    });
    expect(settled.pending).toEqual([]);
    expect(settled.drifts).toEqual([]);
    expect(settled.windowsChecked).toBeLessThan(early.windowsChecked);
    // One millisecond later it has settled: the same difference is drift.
    const late = await reconcile({ config, dataDir, client, from, to, now: windowEnd + settleMs + 1 });
    expect(late.ok).toBe(false);
    expect(late.drifts).toEqual(drifted);
    expect(late.pending).toEqual([]);
  });
});

describe('reconcile with sketches', () => {
  const from = T0;
  const to = T0 + 2 * 3_600_000;

  it('reads quantiles and distinct counts equal to the exact values on this small data', async () => {
    const rows = await readAggregates(doc, config, { rollup: 'temperature_quantiles', window: '1h' });
    const berlin = rows.find(
      (r) => r.dims.site === 'berlin' && r.windowStart === new Date(T0).toISOString(),
    )!;
    const temps = events
      .filter((e) => e.type === 'telemetry' && e.dims.site === 'berlin' && e.ts < T0 + 3_600_000)
      .map((e) => e.metrics.temperature!)
      .sort((a, b) => a - b);
    expect(berlin.metrics.temperature!.count).toBe(temps.length);
    const exact = temps[Math.floor(0.99 * (temps.length - 1))]!;
    expect(Math.abs(berlin.metrics.temperature!.p99! - exact)).toBeLessThanOrEqual(0.01 * exact);
    const devices = await readAggregates(doc, config, {
      rollup: 'active_devices',
      window: '1h',
      from: T0,
      to: T0 + 3_600_000,
    });
    const expected = new Map<string, Set<string>>();
    for (const e of events.filter((x) => x.type === 'telemetry' && x.ts < T0 + 3_600_000)) {
      const site = e.dims.site ?? '';
      expected.set(site, (expected.get(site) ?? new Set()).add(e.source));
    }
    expect(devices.map((r) => [r.dims.site, r.distinct!.source])).toEqual(
      [...expected].map(([site, set]) => [site, set.size]).sort(),
    );
    expect(devices.length).toBeGreaterThan(1);
  });

  it('reports a perturbed quantile sketch and a perturbed distinct count with both values and the bound', async () => {
    const rows = await readAggregates(doc, config, {
      rollup: 'temperature_quantiles',
      window: '1h',
      dims: { site: 'berlin' },
    });
    const target = rows[0]!;
    const pk = `temperature_quantiles#1h#berlin#${target.windowStart}`;
    const { Item } = await doc.send(
      new GetCommand({ TableName: config.table.name, Key: { pk, sk: SHARDS[0]! } }),
    );
    const state = stateFromAttribute(Item!.state);
    // 1,000 phantom values of 100 in the sketch only: the median moves far outside 1%.
    for (let i = 0; i < 1000; i++) addQuantileValues(state, ['temperature'], { temperature: 100 });
    const dpk = `active_devices#1h#berlin#${new Date(T0).toISOString()}`;
    const d = await doc.send(
      new GetCommand({ TableName: config.table.name, Key: { pk: dpk, sk: SHARDS[0]! } }),
    );
    const dstate = stateFromAttribute(d.Item!.state);
    addDistinctValue(dstate, 'source', 'phantom-device');
    for (const [key, st] of [
      [{ pk, sk: SHARDS[0]! }, state],
      [{ pk: dpk, sk: SHARDS[0]! }, dstate],
    ] as const) {
      await doc.send(
        new UpdateCommand({
          TableName: config.table.name,
          Key: key,
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': encodeState(st) },
        }),
      );
    }
    const report = await reconcile({
      config,
      dataDir,
      client,
      from,
      to,
      rollups: ['temperature_quantiles', 'active_devices'],
    });
    expect(report.ok).toBe(false);
    const fields = report.drifts.map((x) => `${x.rollup} ${x.window} ${x.field}`);
    expect(fields).toContain('temperature_quantiles 1h metrics.temperature.p50');
    expect(fields).toContain('active_devices 1h distinct.source');
    const p50 = report.drifts.find((x) => x.field === 'metrics.temperature.p50')!;
    expect(p50.aggregates).toBeGreaterThan(99);
    expect(p50.bound).toBeCloseTo(0.01 * p50.archive!, 6);
    expect(report.drifts.find((x) => x.field === 'distinct.source')).toMatchObject({
      dims: { site: 'berlin' },
      archive: 5,
      aggregates: 6,
      bound: 0,
    });
    // Only the perturbed aggregates drift (1h and 1d items are separate; the 1m items are untouched).
    expect(new Set(report.drifts.map((x) => `${x.rollup}#${x.window}#${x.dims.site}`))).toEqual(
      new Set(['temperature_quantiles#1h#berlin', 'active_devices#1h#berlin']),
    );
  });

  it('generates exact SQL: quantiles at rank floor(q * (n - 1)) and count(DISTINCT)', () => {
    const r = config.rollups.find((x) => x.name === 'temperature_quantiles')!;
    const sql = rollupSql(config, r, '1h', T0, T0 + 3_600_000);
    const t = "element_at(metrics, 'temperature')";
    expect(sql).toContain(`array_sort(array_agg(${t}) FILTER (WHERE ${t} IS NOT NULL))`);
    expect(sql).toContain(
      `[CAST(floor(CAST(0.99 AS DOUBLE) * CAST(count(${t}) - 1 AS DOUBLE)) AS BIGINT) + 1]`,
    );
    // Athena's dialect: map values through element_at (NULL when missing), grouping by position.
    expect(sql).not.toMatch(/metrics\[|dims\[|epoch_ms|list_sort|\/\//);
    expect(sql).toMatch(/GROUP BY 1, 2$/);
    const d = config.rollups.find((x) => x.name === 'active_devices')!;
    expect(rollupSql(config, d, '1h', T0, T0 + 3_600_000)).toContain('count(DISTINCT source) AS x0');
  });
});

describe('compareAggregates with sketch stats', () => {
  const base = {
    window: '1h' as const,
    dims: { site: 'a' },
    dimsKey: 'a',
    windowStart: '2026-01-01T00:00:00.000Z',
  };
  const m = { count: 3, sum: 300, min: 1, max: 200, sumAbs: 300 };
  const stored = (p99: number | null, distinct?: Record<string, number>) => [
    {
      ...base,
      rollup: 'r',
      count: 3,
      shards: 1,
      metrics: { x: { count: 3, sum: 300, min: 1, max: 200, avg: 100, p99 } },
      ...(distinct ? { distinct } : {}),
    },
  ];
  it('passes quantiles within 1% (+1e-9) of the exact value and reports the bound otherwise', () => {
    const archive = [{ ...base, count: 3, metrics: { x: { ...m, quantiles: { p99: 200 } } } }];
    expect(compareAggregates('r', archive, stored(201.99)).drifts).toEqual([]);
    expect(compareAggregates('r', archive, stored(198.01)).drifts).toEqual([]);
    const [drift] = compareAggregates('r', archive, stored(202.5)).drifts;
    expect(drift).toMatchObject({ field: 'metrics.x.p99', archive: 200, aggregates: 202.5 });
    expect(drift!.bound).toBeCloseTo(2, 6);
    expect(compareAggregates('r', archive, stored(null)).drifts).toMatchObject([
      { field: 'metrics.x.p99', archive: 200, aggregates: null },
    ]);
    // Tiny values count as 0 in sketches: within the absolute epsilon.
    const tiny = [{ ...base, count: 3, metrics: { x: { ...m, quantiles: { p99: 5e-10 } } } }];
    expect(compareAggregates('r', tiny, stored(0)).drifts).toEqual([]);
  });

  it('passes distinct counts exactly up to 256, and within 4 standard errors above', () => {
    const archive = (n: number) => [{ ...base, count: 3, metrics: {}, distinct: { source: n } }];
    const st = (n: number) => [
      { ...base, rollup: 'r', count: 3, shards: 1, metrics: {}, distinct: { source: n } },
    ];
    expect(compareAggregates('r', archive(256), st(256)).drifts).toEqual([]);
    expect(compareAggregates('r', archive(256), st(257)).drifts).toMatchObject([
      { field: 'distinct.source', archive: 256, aggregates: 257, bound: 0 },
    ]);
    // 4 x 1.63% of 10,000 = 650.
    expect(compareAggregates('r', archive(10_000), st(10_640)).drifts).toEqual([]);
    expect(compareAggregates('r', archive(10_000), st(9_360)).drifts).toEqual([]);
    const [drift] = compareAggregates('r', archive(10_000), st(10_700)).drifts;
    expect(drift).toMatchObject({ field: 'distinct.source', archive: 10_000, aggregates: 10_700 });
    expect(drift!.bound).toBeCloseTo(650, 6);
    // No sketch stored means no value seen.
    expect(
      compareAggregates(
        'r',
        archive(0),
        stored(null).map(({ metrics, ...r }) => ({ ...r, metrics: {} })),
      ).drifts,
    ).toEqual([]);
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

describe('settledCutoff', () => {
  it('waits out lateness, the archive buffer and, with tumbling windows, the window that may carry a group', () => {
    const now = Date.UTC(2026, 0, 1, 12);
    const plain = resolveConfig({
      processing: { allowedLatenessSeconds: 3600 },
      archive: { bufferIntervalSeconds: 60 },
    });
    expect(settledCutoff(plain, now)).toBe(now - 3_660_000);
    const windowed = resolveConfig({
      processing: { allowedLatenessSeconds: 3600 },
      archive: { bufferIntervalSeconds: 60 },
      eventSource: { tumblingWindowInSeconds: 900 },
    });
    expect(settledCutoff(windowed, now)).toBe(now - 4_560_000);
  });
});
