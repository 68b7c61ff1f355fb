/**
 * The web SDK in real Chromium (Debian's, driven by playwright-core): a page on its own origin loads
 * `/sdk.js` from the local cloud's ingest endpoint, tracks events (fetch batches and a sendBeacon on
 * pagehide), and the aggregates show exactly them. Malformed JSON gets a 400 the page can read (CORS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import { LocalCloud } from '../../infra/local/cloud.ts';
import { readAggregates } from '../../queries/aggregates.ts';
import { browserTestsRun, launchChromium } from '../helpers/chromium.ts';

const config = resolveConfig({
  stream: { name: 'browser-e2e', shardCount: 2 },
  table: { name: 'browser-e2e-aggregates' },
  eventSource: { maximumBatchingWindowInSeconds: 0 },
  // the types the page sends through the (public) ingest endpoint
  ingest: { webEventTypes: ['pageview', 'click', 'purchase', 'beacon_exit'] },
});
const tmp = mkdtempSync(join(tmpdir(), 'browser-'));
let cloud: LocalCloud;
let site: Server;
let siteUrl: string;
let context: BrowserContext;
let page: Page;

/** The test page, served from its own origin (so every call to the ingest endpoint is cross-origin). */
function html(ingest: string): string {
  return `<!doctype html><html><head><title>shop</title>
<script src="${ingest}/sdk.js"></script>
<script>
  window.errors = [];
  window.tracker = Shardline.createTracker({
    endpoint: '${ingest}/ingest', maxBatch: 25, flushIntervalMs: 60000,
    onError: (e) => window.errors.push(e.message),
  });
</script></head><body>shop</body></html>`;
}

describe.skipIf(!browserTestsRun)('web SDK in Chromium', () => {
  beforeAll(async () => {
    cloud = await LocalCloud.start({
      config,
      dataDir: join(tmp, 'data'),
      firehose: false,
      esmTuning: { pollIntervalMs: 25, shardDiscoveryIntervalMs: 200, retryBackoffMs: 5 },
    });
    const ingest = cloud.endpoints.ingest!;
    site = createServer((req, res) => {
      if (req.url === '/favicon.ico') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html(ingest));
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/shop`;
    context = await launchChromium(join(tmp, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((r) => (site ? site.close(() => r()) : r()));
    await cloud?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('delivers tracked events (fetch batches and a pagehide beacon) into the aggregates', async () => {
    await page.goto(siteUrl);
    const result = await page.evaluate(async () => {
      const w = window as unknown as {
        tracker: {
          source: string;
          track(t: string, f?: object): boolean;
          flush(): Promise<void>;
          stats(): Record<string, number>;
        };
        errors: string[];
      };
      for (let i = 0; i < 60; i++) w.tracker.track('pageview', { dims: { page: `/p${i % 4}` } });
      for (let i = 0; i < 30; i++) w.tracker.track('click', { dims: { target: 'buy' } });
      w.tracker.track('purchase', { metrics: { amount: 39.9 } });
      await w.tracker.flush();
      return {
        stats: w.tracker.stats(),
        errors: w.errors,
        source: w.tracker.source,
        stored: sessionStorage.getItem('shardline.session'),
      };
    });
    expect(result.errors).toEqual([]);
    expect(result.stats).toMatchObject({ tracked: 91, sent: 91, failed: 0, queued: 0 });
    expect(result.stored).toBe(result.source);

    // Events still queued when the page goes away leave with sendBeacon on pagehide.
    await page.evaluate(() => {
      const w = window as unknown as { tracker: { track(t: string): boolean } };
      for (let i = 0; i < 7; i++) w.tracker.track('beacon_exit');
    });
    await page.goto('about:blank');
    for (let i = 0; i < 300 && cloud.ingest!.stats().accepted < 98; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(cloud.ingest!.stats()).toMatchObject({ accepted: 98, failed: 0 });

    await cloud.drain({ timeoutMs: 30_000 });
    const ddb = dynamodbClient(cloud.clientOptions('dynamodb'));
    const rows = await readAggregates(ddb, config, { rollup: 'events_by_type', window: '1h' });
    ddb.destroy();
    const byType: Record<string, number> = {};
    for (const r of rows) byType[r.dims.type!] = (byType[r.dims.type!] ?? 0) + r.count;
    expect(byType).toEqual({ pageview: 60, click: 30, purchase: 1, beacon_exit: 7 });
  });

  it('gets a readable 400 naming the problem when it posts malformed JSON', async () => {
    await page.goto(siteUrl);
    const answer = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"records": [',
      });
      return { status: res.status, body: (await res.json()) as { error: string } };
    }, cloud.ingestUrl!);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(
      /^body: is not valid JSON \(.+\); expected \{"records":\[envelope, \.\.\.\]\}; received "\{\\"records\\": \["$/,
    );
  });
});
