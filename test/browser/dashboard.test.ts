/**
 * The dashboard in real Chromium (Debian's, driven by playwright-core) over a real local pipeline: charts
 * draw the API's values, the rollup picker switches, live refresh shows new windows, nothing is fetched
 * from outside. Screenshots go to test-artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardServer, type SeriesResponse, startDashboard } from '../../dashboard/index.ts';
import { browserTestsRun, launchChromium } from '../helpers/chromium.ts';
import { minutesAgo, startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

interface ChartView {
  labels: string[];
  data: (number | null)[][];
}

describe.skipIf(!browserTestsRun)('dashboard in Chromium', () => {
  let pipeline: TestPipeline;
  let dash: DashboardServer;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const requested: string[] = [];
  /** Window starts are fixed once, so a minute boundary during the test moves nothing. */
  const T0 = Date.now();

  beforeAll(async () => {
    pipeline = await startPipeline('dash-browser');
    for (const k of [5, 4, 3]) await pipeline.produceAt(minutesAgo(k, T0) + 2_000, 240);
    dash = await startDashboard({
      config: pipeline.config,
      dataDir: pipeline.dataDir,
      target: 'local',
      clients: pipeline.clients,
    });
    userDataDir = mkdtempSync(join(tmpdir(), 'dash-chromium-'));
    context = await launchChromium(userDataDir, { viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requested.push(r.url()));
  });

  afterAll(async () => {
    await context?.close();
    await dash?.close();
    await pipeline?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  async function api(path: string): Promise<SeriesResponse> {
    return (await (await fetch(new URL(path, dash.url))).json()) as SeriesResponse;
  }

  /** The value chart's data exactly as uPlot holds it. */
  function valueChart(): Promise<ChartView> {
    return page.evaluate(() => {
      const h = (globalThis as unknown as { __shardline: { charts: { value: unknown } } }).__shardline;
      const u = h.charts.value as { data: (number | null)[][]; series: { label?: string }[] };
      return { labels: u.series.slice(1).map((s) => String(s.label)), data: u.data.map((a) => [...a]) };
    });
  }

  /** What the chart must show for `value` of each labelled group, from the API. */
  function expectedFrom(
    res: SeriesResponse,
    view: ChartView,
    pick: (p: SeriesResponse['series'][0]['points'][0]) => number | null,
  ) {
    return view.labels.map((label) => {
      const s = res.series.find((x) => Object.values(x.dims).join(' · ') === label)!;
      const byT = new Map(s.points.map((p) => [p.t / 1000, pick(p)]));
      return view.data[0]!.map((t) => byT.get(t!) ?? null);
    });
  }

  it('draws the API values, switches rollups and shows new windows live', async () => {
    // Arrange / Act: open the page with a 1 s refresh.
    await page.goto(`${dash.url}?refresh=1&rollup=site_telemetry&window=1m&range=-15m&value=temperature.avg`);
    await page.waitForFunction(() => {
      const h = (globalThis as unknown as { __shardline?: { charts: { value: unknown; count: unknown } } })
        .__shardline;
      return Boolean(h?.charts.value && h.charts.count);
    });

    // Assert: the value chart draws temperature.avg per site per window as the API reports it.
    let view = await valueChart();
    let res = await api('/api/series?rollup=site_telemetry&window=1m&from=-15m');
    expect(view.labels.length).toBe(Math.min(8, res.series.length));
    expect(view.data[0]).toEqual(
      [minutesAgo(5, T0), minutesAgo(4, T0), minutesAgo(3, T0)].map((t) => t / 1000),
    );
    expect(view.data.slice(1)).toEqual(expectedFrom(res, view, (p) => p.metrics.temperature?.avg ?? null));
    // the events chart sums the shown groups' counts per window
    const counts = await page.evaluate(() => {
      const h = (globalThis as unknown as { __shardline: { charts: { count: { data: number[][] } } } })
        .__shardline;
      return h.charts.count.data[1];
    });
    const shown = res.series.slice(0, 8);
    expect(counts).toEqual(
      [minutesAgo(5, T0), minutesAgo(4, T0), minutesAgo(3, T0)].map((t) =>
        shown.reduce((a, s) => a + (s.points.find((p) => p.t === t)?.count ?? 0), 0),
      ),
    );
    await expect.poll(() => page.locator('#top tbody tr').count()).toBeGreaterThan(1);
    await expect.poll(() => page.locator('#shards tbody tr').count()).toBe(2);

    // Act: pick another rollup.
    await page.selectOption('#rollup', 'events_by_type');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __shardline: { lastSeries: { rollup: string } | null } }).__shardline
          .lastSeries?.rollup === 'events_by_type',
    );
    // Assert: the chart now shows event counts per type.
    view = await valueChart();
    res = await api('/api/series?rollup=events_by_type&window=1m&from=-1h');
    expect(view.labels).toEqual(res.series.map((s) => s.dims.type));
    expect(view.data.slice(1)).toEqual(expectedFrom(res, view, (p) => p.count));
    expect(await page.locator('#value').inputValue()).toBe('count');

    // Act: back to site_telemetry; new events arrive in a later window while the page is open.
    await page.selectOption('#rollup', 'site_telemetry');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __shardline: { lastSeries: { rollup: string } | null } }).__shardline
          .lastSeries?.rollup === 'site_telemetry',
    );
    const before = await page.evaluate(
      () => (globalThis as unknown as { __shardline: { refreshes: number } }).__shardline.refreshes,
    );
    await pipeline.produceAt(minutesAgo(1, T0) + 2_000, 240);
    const drained = await page.evaluate(
      () => (globalThis as unknown as { __shardline: { refreshes: number } }).__shardline.refreshes,
    );
    // Assert: live refresh (no reload) draws the new window.
    await page.waitForFunction(
      (t) => {
        const h = (
          globalThis as unknown as { __shardline: { charts: { value: { data: number[][] } | null } } }
        ).__shardline;
        return h.charts.value?.data[0]?.includes(t) ?? false;
      },
      minutesAgo(1, T0) / 1000,
      { timeout: 20_000 },
    );
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { __shardline: { refreshes: number } }).__shardline.refreshes,
      ),
    ).toBeGreaterThan(before);
    // a refresh that started after the pipeline drained shows the new window complete
    await page.waitForFunction(
      (n) => (globalThis as unknown as { __shardline: { refreshes: number } }).__shardline.refreshes >= n,
      drained + 2,
      { timeout: 20_000 },
    );
    view = await valueChart();
    res = await api('/api/series?rollup=site_telemetry&window=1m&from=-1h');
    expect(view.data.slice(1)).toEqual(expectedFrom(res, view, (p) => p.metrics.temperature?.avg ?? null));
    expect(await page.locator('#error').isHidden()).toBe(true);

    // Every request stayed on the dashboard's own origin.
    const origin = new URL(dash.url).origin;
    expect(requested.filter((u) => !u.startsWith(origin))).toEqual([]);

    // Screenshots (laptop, then phone width without horizontal scrolling).
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.evaluate(nextPaint);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    // The page resizes its charts once their container settles: wait until both fit the phone width.
    await page.waitForFunction(
      () => {
        const charts = (
          globalThis as unknown as { __shardline: { charts: Record<string, { width: number } | undefined> } }
        ).__shardline.charts;
        const fits = (slot: string, id: string) =>
          (charts[slot]?.width ?? 0) <= (document.getElementById(id)?.clientWidth ?? 0);
        return fits('value', 'value-chart') && fits('count', 'count-chart');
      },
      undefined,
      { timeout: 10_000 },
    );
    await page.evaluate(nextPaint);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
  });
});

/** Resolves after the browser painted a frame (two animation frames: the next one has been rendered). */
function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
}
