import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../common/errors.ts';
import type { PipelineHealth } from '../../../dashboard/health.ts';
import { type SeriesResponse, startDashboard, type TopResponse } from '../../../dashboard/index.ts';
import type { ProducedRecord } from '../../../producers/index.ts';
import { readAggregates } from '../../../queries/aggregates.ts';
import { minutesAgo, startPipeline, type TestPipeline } from '../../helpers/pipeline.ts';

let pipeline: TestPipeline;
let dash: { url: string; close(): Promise<void> };
let produced: ProducedRecord[];
const W3 = minutesAgo(3);
const W2 = minutesAgo(2);

async function get<T>(path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(new URL(path, dash.url));
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, body: (isJson ? JSON.parse(text) : text) as T, headers: res.headers };
}

beforeAll(async () => {
  pipeline = await startPipeline('dash-api');
  produced = [...(await pipeline.produceAt(W3 + 5_000, 300)), ...(await pipeline.produceAt(W2 + 5_000, 200))];
  dash = await startDashboard({
    config: pipeline.config,
    dataDir: pipeline.dataDir,
    target: 'local',
    clients: pipeline.clients,
  });
});

afterAll(async () => {
  await dash?.close();
  await pipeline?.stop();
});

/** Telemetry events produced, counted by site and window start (what site_telemetry must show). */
function expectedBySite(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of produced) {
    if (r.event?.type !== 'telemetry') continue;
    const start = Math.floor(r.event.ts / 60_000) * 60_000;
    const key = `${r.event.dims.site}@${start}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

describe('GET /api/rollups', () => {
  it('lists every rollup with its dims, windows and chartable values', async () => {
    const { status, body } = await get<{
      target: string;
      rollups: { name: string; dims: string[]; values: string[] }[];
    }>('/api/rollups');
    expect(status).toBe(200);
    expect(body.target).toBe('local');
    expect(body.rollups.map((r) => r.name)).toEqual(pipeline.config.rollups.map((r) => r.name));
    const site = body.rollups.find((r) => r.name === 'site_telemetry')!;
    expect(site.dims).toEqual(['site']);
    expect(site.values).toContain('temperature.avg');
    expect(site.values).toContain('battery.max');
    expect(body.rollups.find((r) => r.name === 'events_by_type')!.values).toEqual(['count']);
  });
});

describe('GET /api/series', () => {
  it('gives one point per window per group, equal to readAggregates and to what was produced', async () => {
    // Act
    const { status, body } = await get<SeriesResponse>(
      '/api/series?rollup=site_telemetry&window=1m&from=-10m',
    );
    // Assert
    expect(status).toBe(200);
    expect(body.windowMs).toBe(60_000);
    const rows = await readAggregates(pipeline.clients.dynamodb, pipeline.config, {
      rollup: 'site_telemetry',
      window: '1m',
      from: Date.parse(body.from),
      to: Date.parse(body.to),
    });
    const fromApi = body.series.flatMap((s) => s.points.map((p) => ({ site: s.dims.site, ...p })));
    expect(fromApi).toHaveLength(rows.length);
    for (const row of rows) {
      const p = fromApi.find((x) => x.site === row.dims.site && x.windowStart === row.windowStart)!;
      expect(p.count).toBe(row.count);
      expect(p.metrics).toEqual(row.metrics);
    }
    const expected = expectedBySite();
    const got = new Map(fromApi.map((p) => [`${p.site}@${p.t}`, p.count]));
    expect(got).toEqual(expected);
    for (const s of body.series) {
      expect(new Set(s.points.map((p) => p.t)).size).toBe(s.points.length);
      expect(s.count).toBe(s.points.reduce((a, p) => a + p.count, 0));
    }
    const counts = body.series.map((s) => s.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('filters by a dim value and defaults the window to the rollup smallest', async () => {
    const { body } = await get<SeriesResponse>(
      '/api/series?rollup=site_telemetry&from=-10m&dims.site=berlin',
    );
    expect(body.window).toBe('1m');
    expect(body.series.map((s) => s.dims.site)).toEqual(['berlin']);
    expect(body.series[0]!.points.map((p) => p.t)).toEqual([W3, W2]);
  });

  it('covers every event in a count-only rollup', async () => {
    const { body } = await get<SeriesResponse>('/api/series?rollup=events_by_type&window=1h&from=-3h');
    const total = body.series.reduce((a, s) => a + s.count, 0);
    expect(total).toBe(produced.filter((r) => r.event !== null).length);
  });
});

describe('GET /api/top', () => {
  it('ranks the groups of the latest window with data', async () => {
    const { status, body } = await get<TopResponse>('/api/top?rollup=site_telemetry&window=1m&by=count&n=2');
    expect(status).toBe(200);
    expect(body.windowStart).toBe(new Date(W2).toISOString());
    expect(body.rows).toHaveLength(2);
    expect(body.rows[0]!.value).toBeGreaterThanOrEqual(body.rows[1]!.value!);
    const expected = [...expectedBySite()].filter(([k]) => k.endsWith(`@${W2}`)).map(([, n]) => n);
    expect(body.groups).toBe(expected.length);
    expect(body.rows[0]!.value).toBe(Math.max(...expected));
  });

  it('ranks a chosen window by a metric statistic', async () => {
    const { body } = await get<TopResponse>(
      `/api/top?rollup=site_telemetry&window=1m&at=${new Date(W3 + 30_000).toISOString()}&by=temperature.max&n=100`,
    );
    expect(body.windowStart).toBe(new Date(W3).toISOString());
    const values = body.rows.map((r) => r.value!);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    for (const r of body.rows) expect(r.value).toBe(r.metrics.temperature!.max);
    expect(body.rows.reduce((a, r) => a + r.count, 0)).toBe(
      [...expectedBySite()].filter(([k]) => k.endsWith(`@${W3}`)).reduce((a, [, n]) => a + n, 0),
    );
  });
});

describe('GET /api/status', () => {
  it('reports shards, totals, quarantine and the on-failure depth', async () => {
    // Arrange: two OnFailure records in nested folders, as the mapping writes them.
    const dir = join(pipeline.dataDir, 'onfailure', 'shardId-000000000000', '2026');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.json'), '{}');
    writeFileSync(join(dir, 'b.json'), '{}');
    // Act
    const { status, body } = await get<PipelineHealth>('/api/status');
    // Assert
    expect(status).toBe(200);
    expect(body.target).toBe('local');
    expect(body.shards.map((s) => s.shardId)).toHaveLength(2);
    // Records are Kinesis records: producers KPL-aggregate events, so count the distinct ones they rode in.
    expect(body.totals.records).toBe(new Set(produced.map((r) => `${r.shardId}/${r.sequenceNumber}`)).size);
    expect(body.totals.aggregated).toBe(produced.length);
    expect(body.quarantine).toEqual({ total: 0, late: 0, reasons: {} });
    expect(body.onFailure).toMatchObject({ depth: 2, source: 'local' });
    expect(body.shards.every((s) => s.lagMs === 0)).toBe(true);
  });
});

describe('bad requests', () => {
  const cases: [string, number, string][] = [
    [
      '/api/series',
      400,
      'rollup is required (one of site_telemetry, device_temperature, events_by_type, temperature_quantiles, active_devices, page_visitors)',
    ],
    [
      '/api/series?rollup=nope',
      400,
      'rollup must be one of site_telemetry, device_temperature, events_by_type, temperature_quantiles, active_devices, page_visitors; got "nope"',
    ],
    ['/api/series?rollup=site_telemetry&window=2m', 400, 'window must be one of 1m, 1h; got "2m"'],
    ['/api/series?rollup=device_temperature&window=1m', 400, 'window must be one of 1h; got "1m"'],
    [
      '/api/series?rollup=site_telemetry&from=yesterday',
      400,
      'from must be ISO-8601, epoch ms, "now" or relative like -1h; got "yesterday"',
    ],
    ['/api/series?rollup=site_telemetry&from=-1h&to=-2h', 400, 'from must be before to'],
    [
      '/api/series?rollup=site_telemetry&window=1m&from=-30d',
      400,
      'range must span at most 10000 windows of 1m; got 43',
    ],
    [
      '/api/series?rollup=site_telemetry&colour=red',
      400,
      'unknown parameter "colour"; expected rollup, window, from, to or dims.<name>',
    ],
    [
      '/api/series?rollup=site_telemetry&dims.city=x',
      400,
      'dims.<name> must name one of site for rollup site_telemetry; got "dims.city"',
    ],
    ['/api/series?rollup=site_telemetry&window=1m&window=1h', 400, 'window must be given once; got 2 values'],
    ['/api/top?rollup=site_telemetry&by=temperature.p99', 400, 'by must be one of count, temperature.avg'],
    [
      '/api/top?rollup=events_by_type&by=temperature.avg',
      400,
      'by must be one of count; got "temperature.avg"',
    ],
    ['/api/top?rollup=site_telemetry&n=0', 400, 'n must be an integer between 1 and 100; got "0"'],
    ['/api/top?rollup=site_telemetry&n=ten', 400, 'n must be an integer between 1 and 100; got "ten"'],
    [
      '/api/top?rollup=site_telemetry&at=soon',
      400,
      'at must be ISO-8601, epoch ms, "now" or relative like -1h; got "soon"',
    ],
    [
      '/api/top?rollup=site_telemetry&dims.site=x',
      400,
      'unknown parameter "dims.site"; expected rollup, window, at, by, n',
    ],
    ['/api/status?verbose=1', 400, 'unknown parameter "verbose"; this route takes none'],
    ['/api/rollups?x=1', 400, 'unknown parameter "x"; this route takes none'],
    ['/api/nope', 404, 'no such route "/api/nope"'],
    ['/nope.html', 404, 'no such page "/nope.html"'],
  ];
  it.each(cases)('GET %s answers %i', async (path, status, message) => {
    const res = await get<{ error: string }>(path);
    expect(res.status).toBe(status);
    expect(res.body.error).toContain(message);
  });

  it('is read-only: POST answers 405', async () => {
    const res = await fetch(new URL('/api/series?rollup=site_telemetry', dash.url), { method: 'POST' });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { error: string }).error).toBe(
      'method must be GET or HEAD; got POST (this API is read-only)',
    );
  });

  it('refuses a non-loopback Host header (DNS rebinding)', async () => {
    const url = new URL(dash.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: '/api/rollups', headers: { host: 'evil.example:80' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('the page and its assets', () => {
  it('serves the page, its bundle and uPlot from node_modules, with a strict CSP', async () => {
    const page = await get<string>('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/app.js"></script>');
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const app = await get<string>('/app.js');
    expect(app.headers.get('content-type')).toContain('javascript');
    expect(app.body).toContain('/api/series');
    const uplot = await get<string>('/vendor/uPlot.iife.min.js');
    expect(uplot.status).toBe(200);
    expect(uplot.body).toContain('uPlot');
    expect((await get<string>('/vendor/uPlot.min.css')).status).toBe(200);
  });

  it('binds to 127.0.0.1 by default and validates its options', async () => {
    expect(new URL(dash.url).hostname).toBe('127.0.0.1');
    await expect(startDashboard({ config: pipeline.config, target: 'local', port: 70_000 })).rejects.toThrow(
      new ConfigError(
        'invalid dashboard options:\n  port must be an integer between 0 and 65535; received 70000',
      ),
    );
    await expect(startDashboard({ config: pipeline.config, target: 'gcp' as 'aws' })).rejects.toThrow(
      'target must be one of local, aws; received "gcp"',
    );
  });
});
