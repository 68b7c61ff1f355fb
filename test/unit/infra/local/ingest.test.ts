import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { LocalIngest } from '../../../../infra/local/ingest.ts';
import { IngestOptionsError, webIngestPolicy } from '../../../../producers/ingest/index.ts';
import { injectFaults, type LocalKinesis, startKinesalite } from '../../../helpers/kinesalite.ts';

let kinesis: LocalKinesis;
let ingest: LocalIngest;
const STREAM = 'ingest-test';
const decoder = new TextDecoder();

const envelope = (i: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  eventId: `evt-${i}`,
  source: `sess-${i % 3}`,
  type: 'click',
  ts: '2026-01-01T00:00:00.000Z',
  metrics: { n: i },
  dims: { page: '/' },
  ...extra,
});

const post = (body: string, url = ingest.url, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

const stored = async (stream = STREAM) =>
  (await kinesis.readAll(stream)).map((r) => ({ pk: r.partitionKey, data: decoder.decode(r.data) }));

beforeAll(async () => {
  kinesis = await startKinesalite();
  await kinesis.createStream(STREAM, 2);
  ingest = await LocalIngest.start({ streamName: STREAM, kinesis: kinesis.client(3) });
});
afterAll(async () => {
  await ingest.stop();
  await kinesis.close();
});

describe('LocalIngest', () => {
  it('writes a valid batch to the stream, one record per envelope keyed by source', async () => {
    const records = [envelope(1), envelope(2), envelope(3, { ts: 1767225600000 })];
    const res = await post(JSON.stringify({ records }));
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({ accepted: 3 });
    const got = await stored();
    expect(got.map((r) => JSON.parse(r.data)).sort((a, b) => a.eventId.localeCompare(b.eventId))).toEqual(
      records,
    );
    for (const r of got) expect(r.pk).toBe(JSON.parse(r.data).source);
    expect(ingest.stats()).toMatchObject({ accepted: 3, rejected: 0, failed: 0 });
  });

  it('accepts text/plain bodies (sendBeacon)', async () => {
    const res = await post(JSON.stringify({ records: [envelope(10)] }), ingest.url, {
      'Content-Type': 'text/plain;charset=UTF-8',
    });
    expect(res.status).toBe(200);
  });

  it('rejects malformed JSON with 400 naming the problem, writing nothing', async () => {
    const before = (await stored()).length;
    const res = await post('{"records": [ {"v":1,');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/^body: is not valid JSON/);
    expect(body.error).toContain('expected {"records":[envelope, ...]}');
    expect((await stored()).length).toBe(before);
  });

  it('rejects the whole request when one record is invalid, naming index, field and value', async () => {
    const before = (await stored()).length;
    const records = [envelope(20), envelope(21, { ts: 'yesterday', metrics: { t: 'warm' } }), envelope(22)];
    const res = await post(JSON.stringify({ records }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: string;
      problems: { index: number; path: string; message: string }[];
    };
    expect(body.problems.map((p) => p.path).sort()).toEqual(['records[1].metrics.t', 'records[1].ts']);
    const ts = body.problems.find((p) => p.path === 'records[1].ts')!;
    expect(ts.index).toBe(1);
    expect(ts.message).toContain('received "yesterday"');
    expect(body.error).toContain('records[1].');
    expect((await stored()).length).toBe(before);
  });

  it('rejects bodies over 10 MiB (the API Gateway limit) with 413 and more than 500 records with 400', async () => {
    const big = await post(`{"records":[${'"x",'.repeat(2_700_000)}"x"]}`);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toContain('must be at most 10485760 bytes');
    const many = await post(JSON.stringify({ records: Array.from({ length: 501 }, (_, i) => envelope(i)) }));
    expect(many.status).toBe(400);
    expect(((await many.json()) as { error: string }).error).toBe(
      'records: must hold between 1 and 500 records; received 501',
    );
  });

  it('answers CORS preflights, health checks, the SDK bundle, and unknown routes', async () => {
    const pre = await fetch(ingest.url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://example.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');
    const health = await fetch(`${ingest.endpoint}/healthz`);
    expect(await health.json()).toEqual({ ok: true, stream: STREAM });
    const sdk = await fetch(`${ingest.endpoint}/sdk.js`);
    expect(sdk.headers.get('content-type')).toContain('javascript');
    expect(await sdk.text()).toMatch(/var Shardline=/);
    expect((await fetch(`${ingest.endpoint}/nope`)).status).toBe(404);
    const wrong = await fetch(ingest.url);
    expect(wrong.status).toBe(405);
    expect(((await wrong.json()) as { error: string }).error).toBe('/ingest accepts POST; received GET');
  });

  it('retries only failed entries and answers 503 listing those still refused', async () => {
    const stream = 'ingest-faults';
    await kinesis.createStream(stream, 1);
    const client = kinesis.client(1);
    // Call 0 refuses evt-31 and evt-32; the retry (call 1: [evt-31, evt-32]) refuses evt-31 again.
    const { calls } = injectFaults(client, ({ index, call }) =>
      (call === 0 && index >= 1) || (call === 1 && index === 0)
        ? 'ProvisionedThroughputExceededException'
        : undefined,
    );
    const server = await LocalIngest.start({
      streamName: stream,
      kinesis: client,
      put: { maxAttempts: 2, backoffBaseMs: 1 },
    });
    try {
      const res = await post(
        JSON.stringify({ records: [envelope(30), envelope(31), envelope(32)] }),
        server.url,
      );
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const body = (await res.json()) as { accepted: number; failed: number[]; error: string };
      expect(body.error).toBe('1 record(s) were not written; resend only those listed in failed');
      expect(body.accepted).toBe(2);
      expect(body.failed).toEqual([1]);
      expect(calls.map((c) => c.Records?.length)).toEqual([3, 2]);
      const ids = (await stored(stream)).map((r) => JSON.parse(r.data).eventId).sort();
      expect(ids).toEqual(['evt-30', 'evt-32']);
    } finally {
      await server.stop();
    }
  });

  it('as the public endpoint: allowed types only, web: sources, capped batches, configured origins', async () => {
    // GIVEN the endpoint as the local cloud runs it, from the config's ingest section
    const stream = 'ingest-web';
    await kinesis.createStream(stream, 1);
    const { ingest: web } = resolveConfig({
      ingest: {
        webEventTypes: ['click'],
        maxRecordsPerRequest: 2,
        allowedOrigins: ['https://shop.example.com'],
      },
    });
    const server = await LocalIngest.start({
      streamName: stream,
      kinesis: kinesis.client(1),
      allowedOrigins: web.allowedOrigins,
      policy: webIngestPolicy(web),
    });
    const from = (origin: string) => ({ Origin: origin });
    try {
      // WHEN a page of the shop sends clicks THEN they are written with a web: source, and it may read the answer
      const ok = await post(
        JSON.stringify({ records: [envelope(40, { source: "it's" }), envelope(41)] }),
        server.url,
        from('https://shop.example.com'),
      );
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
      expect(ok.headers.get('vary')).toBe('Origin');
      const got = await stored(stream);
      expect(got.map((r) => r.pk).sort()).toEqual(["web:it's", 'web:sess-2']);
      for (const r of got) expect(JSON.parse(r.data).source).toBe(r.pk);
      // WHEN another origin calls THEN its page may not read the answer
      const other = await post(
        JSON.stringify({ records: [envelope(42)] }),
        server.url,
        from('https://evil.test'),
      );
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // WHEN a page sends telemetry, too many records or a source with no room for the prefix THEN 400
      const telemetry = await post(
        JSON.stringify({ records: [envelope(43, { type: 'telemetry' })] }),
        server.url,
      );
      expect(telemetry.status).toBe(400);
      expect(((await telemetry.json()) as { error: string }).error).toBe(
        'records[0].type: must be one of click; received "telemetry"',
      );
      const three = await post(
        JSON.stringify({ records: [envelope(1), envelope(2), envelope(3)] }),
        server.url,
      );
      expect(((await three.json()) as { error: string }).error).toBe(
        'records: must hold between 1 and 2 records; received 3',
      );
      const long = await post(
        JSON.stringify({ records: [envelope(44, { source: 'x'.repeat(125) })] }),
        server.url,
      );
      expect(((await long.json()) as { error: string }).error).toBe(
        'records[0].source: must be at most 124 characters (the endpoint prefixes "web:"); received 125',
      );
      expect(await stored(stream)).toHaveLength(3);
    } finally {
      await server.stop();
    }
  });

  it('rejects a bad port naming the value', async () => {
    await expect(
      LocalIngest.start({ streamName: STREAM, kinesis: kinesis.client(), port: 70000 }),
    ).rejects.toThrow(new IngestOptionsError('port must be an integer between 0 and 65535; received 70000'));
  });
});
