import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import type { ShardlineEvent } from '../../../common/envelope.ts';
import { loadCatalog } from '../../../queries/catalog.ts';
import { DuckDbEngine } from '../../../queries/engine/duckdb.ts';
import { runQuery } from '../../../queries/run.ts';
import { type ArchivedEvent, quarantineRecord, writeArchive } from '../../helpers/archive.ts';

const T = Date.UTC(2026, 2, 1, 10, 0, 0);
const MIN = 60_000;
const config = resolveConfig({});
let n = 0;
const ev = (
  source: string,
  type: string,
  atMin: number,
  metrics: Record<string, number> = {},
  dims: Record<string, string> = {},
): ShardlineEvent => ({ v: 1, eventId: `e${++n}`, source, type, ts: T + atMin * MIN, metrics, dims });

const telemetry = [
  ev('device-a', 'telemetry', 0, { temperature: 20 }, { site: 'berlin' }),
  ev('device-a', 'telemetry', 10, { temperature: 21 }, { site: 'berlin' }),
  ev('device-a', 'telemetry', 20, { temperature: 22 }, { site: 'berlin' }),
  ev('device-a', 'telemetry', 30, { temperature: 23 }, { site: 'berlin' }),
  ev('device-a', 'telemetry', 40, { temperature: 50 }, { site: 'berlin' }),
  ev('device-b', 'telemetry', 5, { temperature: 10 }, { site: 'paris' }),
  ev('device-c', 'telemetry', 55, { temperature: 30 }, { site: 'paris' }),
  ev('device-c', 'telemetry', 56, { temperature: 31, humidity: 40 }, { site: 'paris' }),
];
const web = [
  ev('s1', 'pageview', 1, {}, { site: 'berlin', page: '/home' }),
  ev('s1', 'pageview', 2, {}, { site: 'berlin', page: '/cart' }),
  ev('s1', 'click', 3, {}, { site: 'berlin' }),
  ev('s1', 'purchase', 4, {}, { site: 'berlin' }),
  ev('s2', 'pageview', 1, {}, { site: 'berlin', page: '/home' }),
  ev('s2', 'click', 2, {}, { site: 'berlin' }),
  ev('s3', 'pageview', 7, {}, { site: 'paris', page: '/home' }),
];
// Filler far from the queried hour, in other partitions: never in a [T, T+1h) answer.
const filler = [-10, -8, -6, 5, 7, 9].map((h) =>
  ev('filler', 'telemetry', h * 60, { temperature: 99 }, { site: 'x' }),
);

let dataDir: string;
let emptyDir: string;
const from = new Date(T).toISOString();
const to = new Date(T + 60 * MIN).toISOString();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'engine-test-'));
  emptyDir = mkdtempSync(join(tmpdir(), 'engine-empty-'));
  const archived: ArchivedEvent[] = [
    ...[...telemetry, ...web].map((event, i) => ({ event, copies: i % 3 === 0 ? 2 : 1 })),
    ...filler.map((event) => ({ event })),
  ];
  const lateRec = quarantineRecord(telemetry[0]!, 'late', T + 30 * MIN, { eventId: 'late-x' });
  await writeArchive({
    dataDir,
    events: archived,
    quarantine: [
      lateRec,
      { ...lateRec }, // a replay quarantined the same record twice
      quarantineRecord(telemetry[1]!, 'late', T + 31 * MIN, { eventId: 'late-y' }),
      quarantineRecord(null, 'invalid_json', T + 32 * MIN),
    ],
  });
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
});

const run = (query: string, params: Record<string, string> = {}, dir = () => dataDir) =>
  runQuery({ query, params: { from, to, ...params }, config, dataDir: dir() });

describe('catalog queries on DuckDB, known answers', () => {
  it('events_per_minute counts distinct events per minute and type', async () => {
    const { rows } = await run('events_per_minute');
    const total: Record<string, number> = {};
    for (const r of rows) total[String(r.type)] = (total[String(r.type)] ?? 0) + Number(r.events);
    expect(total).toEqual({ telemetry: 8, pageview: 4, click: 2, purchase: 1 });
    const only = await run('events_per_minute', { type: 'pageview' });
    expect(only.rows).toEqual([
      { minute: '2026-03-01T10:01:00.000Z', type: 'pageview', events: 2 },
      { minute: '2026-03-01T10:02:00.000Z', type: 'pageview', events: 1 },
      { minute: '2026-03-01T10:07:00.000Z', type: 'pageview', events: 1 },
    ]);
  });

  it('silent_devices lists sources quiet for the last N minutes', async () => {
    const { rows } = await run('silent_devices', { silent_minutes: '10' });
    expect(rows.map((r) => [r.source, r.last_seen, r.silent_seconds])).toEqual([
      ['device-b', '2026-03-01T10:05:00.000Z', 3300],
      ['device-a', '2026-03-01T10:40:00.000Z', 1200],
    ]);
  });

  it('metric_anomalies finds the outlier by z-score', async () => {
    const { rows } = await run('metric_anomalies', { threshold: '1.5' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.source).toBe('device-a');
    expect(rows[0]!.value).toBe(50);
    expect(rows[0]!.z as number).toBeCloseTo(22.8 / Math.sqrt(654.8 / 4), 9);
  });

  it('percentiles_by_site', async () => {
    const { rows } = await run('percentiles_by_site');
    expect(rows.map((r) => [r.site, r.n, r.min, r.p50, r.max])).toEqual([
      ['berlin', 5, 20, 22, 50],
      ['paris', 3, 10, 30, 31],
    ]);
  });

  it('top_pages with distinct visitors', async () => {
    const { rows } = await run('top_pages');
    expect(rows).toEqual([
      { page: '/home', views: 3, visitors: 3 },
      { page: '/cart', views: 1, visitors: 1 },
    ]);
  });

  it('sessions_bounce_rate per site', async () => {
    const { rows } = await run('sessions_bounce_rate');
    expect(rows).toEqual([
      { site: 'berlin', sessions: 2, bounces: 1, bounce_rate: 0.5, pages_per_session: 1.5 },
      { site: 'paris', sessions: 1, bounces: 1, bounce_rate: 1, pages_per_session: 1 },
    ]);
  });

  it('conversion_funnel counts ordered steps', async () => {
    const { rows } = await run('conversion_funnel');
    expect(rows).toEqual([{ step1: 3, step2: 2, step3: 1, rate_1_2: 2 / 3, rate_2_3: 0.5, rate_1_3: 1 / 3 }]);
  });

  it('late_event_share per arrival hour', async () => {
    const { rows } = await run('late_event_share', { to: from });
    expect(rows).toEqual([{ hour: '2026-03-01-10', archived: 15, late: 2, late_share: 2 / 15 }]);
  });

  it('quarantine_reasons counts records once per shard and sequence', async () => {
    const { rows } = await run('quarantine_reasons');
    expect(rows.map((r) => [r.reason, r.records])).toEqual([
      ['late', 2],
      ['invalid_json', 1],
    ]);
  });

  it('metric_summary_by_source', async () => {
    const { rows } = await run('metric_summary_by_source');
    expect(rows).toEqual([
      { source: 'device-a', n: 5, min: 20, avg: 27.2, max: 50 },
      { source: 'device-b', n: 1, min: 10, avg: 10, max: 10 },
      { source: 'device-c', n: 2, min: 30, avg: 30.5, max: 31 },
    ]);
  });

  it('every catalog query has a known-answer test above', () => {
    const tested = [
      'events_per_minute',
      'silent_devices',
      'metric_anomalies',
      'percentiles_by_site',
      'top_pages',
      'sessions_bounce_rate',
      'conversion_funnel',
      'late_event_share',
      'quarantine_reasons',
      'metric_summary_by_source',
    ];
    expect(
      loadCatalog()
        .map((q) => q.name)
        .sort(),
    ).toEqual(tested.sort());
  });
});

describe('local engine', () => {
  it('prunes partitions: a one-hour range reads fewer files and bytes than a full scan', async () => {
    const pruned = await run('metric_summary_by_source');
    const full = await run('metric_summary_by_source', {
      from: '2026-02-28T00:00:00Z',
      to: '2026-03-02T00:00:00Z',
    });
    expect(pruned.stats.filesScanned).toBeLessThan(full.stats.filesScanned);
    expect(pruned.stats.bytesScanned).toBeGreaterThan(0);
    expect(pruned.stats.bytesScanned).toBeLessThan(full.stats.bytesScanned);
  });

  it('runs every catalog query on an empty archive with typed, empty views', async () => {
    for (const q of loadCatalog()) {
      const { rows } = await run(q.name, {}, () => emptyDir);
      if (q.name === 'conversion_funnel')
        expect(rows).toEqual([
          { step1: 0, step2: 0, step3: 0, rate_1_2: null, rate_2_3: null, rate_1_3: null },
        ]);
      else expect(rows, q.name).toEqual([]);
    }
    const engine = await DuckDbEngine.open({ dataDir: emptyDir, config });
    try {
      const { rows } = await engine.run('DESCRIBE events');
      expect(rows.map((r) => [r.column_name, r.column_type])).toEqual([
        ['v', 'INTEGER'],
        ['eventid', 'VARCHAR'],
        ['source', 'VARCHAR'],
        ['type', 'VARCHAR'],
        ['ts', 'TIMESTAMP'],
        ['metrics', 'MAP(VARCHAR, DOUBLE)'],
        ['dims', 'MAP(VARCHAR, VARCHAR)'],
        ['dt', 'VARCHAR'],
      ]);
    } finally {
      engine.close();
    }
  });

  it('reads a JSON archive (concatenated objects) through the same view', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-json-'));
    try {
      await writeArchive({
        dataDir: dir,
        format: 'json',
        events: telemetry.map((event) => ({ event, copies: 2 })),
      });
      const jsonConfig = resolveConfig({ archive: { format: 'json', bufferSizeMiB: 5 } });
      const { rows } = await runQuery({
        query: 'metric_summary_by_source',
        params: { from, to },
        config: jsonConfig,
        dataDir: dir,
      });
      expect(rows[0]).toEqual({ source: 'device-a', n: 5, min: 20, avg: 27.2, max: 50 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports SQL errors as QueryExecutionError', async () => {
    const engine = await DuckDbEngine.open({ dataDir: emptyDir, config });
    try {
      await expect(engine.run('SELECT nope FROM events')).rejects.toMatchObject({ code: 'QUERY_FAILED' });
    } finally {
      engine.close();
    }
  });
});
