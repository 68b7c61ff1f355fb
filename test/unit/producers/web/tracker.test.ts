import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, validateEnvelope } from '../../../../common/envelope.ts';
import { LocalIngest } from '../../../../infra/local/ingest.ts';
import { type IngestPolicy, webIngestPolicy } from '../../../../producers/ingest/body.ts';
import {
  createTracker,
  type DeliveryError,
  type SessionStore,
  TrackerError,
  WEB_LIMITS,
} from '../../../../producers/web/index.ts';
import { injectFaults, type LocalKinesis, startKinesalite } from '../../../helpers/kinesalite.ts';

let kinesis: LocalKinesis;
let n = 0;
const servers: LocalIngest[] = [];
const decoder = new TextDecoder();

/** A fresh stream behind a fresh ingest server (optionally with PutRecords faults). */
async function endpoint(fault?: Parameters<typeof injectFaults>[1], policy?: IngestPolicy) {
  const stream = `web${++n}`;
  await kinesis.createStream(stream, 2);
  const client = kinesis.client(1);
  if (fault) injectFaults(client, fault);
  const server = await LocalIngest.start({
    streamName: stream,
    kinesis: client,
    put: { maxAttempts: 1 },
    ...(policy === undefined ? {} : { policy }),
  });
  servers.push(server);
  const read = async () => (await kinesis.readAll(stream)).map((r) => JSON.parse(decoder.decode(r.data)));
  return { url: server.url, read };
}

const memoryStore = (): SessionStore & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
};

beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  await kinesis.close();
});

describe('Tracker', () => {
  it('batches valid envelopes to the ingest endpoint under one session id kept in storage', async () => {
    const { url, read } = await endpoint();
    const storage = memoryStore();
    const tracker = createTracker({ endpoint: url, storage, maxBatch: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 250; i++)
      tracker.track(i % 2 ? 'click' : 'pageview', { metrics: { i }, dims: { page: '/p' } });
    await tracker.flush();
    expect(tracker.stats()).toMatchObject({ tracked: 250, sent: 250, failed: 0, queued: 0, requests: 3 });
    const got = await read();
    expect(got).toHaveLength(250);
    for (const e of got) {
      expect(validateEnvelope(e).ok).toBe(true);
      expect(e.source).toBe(tracker.source);
    }
    expect(new Set(got.map((e) => e.eventId)).size).toBe(250);
    expect(storage.map.get('shardline.session')).toBe(tracker.source);
    // A second tracker in the same tab (same storage) keeps the session.
    expect(createTracker({ endpoint: url, storage, flushOnHide: false }).source).toBe(tracker.source);
  });

  it('sends a partial batch after flushIntervalMs without flush()', async () => {
    const { url, read } = await endpoint();
    const tracker = createTracker({ endpoint: url, storage: null, flushIntervalMs: 10 });
    tracker.track('pageview');
    for (let i = 0; i < 200 && (await read()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await read()).map((e) => e.type)).toEqual(['pageview']);
    await tracker.close();
  });

  it('retries network errors and resends only the entries a 503 lists, so nothing is duplicated or lost', async () => {
    // Kinesis refuses entry 0 of the first PutRecords call: the server answers 503 {failed:[0]}.
    const { url, read } = await endpoint(({ index, call }) =>
      call === 0 && index === 0 ? 'ProvisionedThroughputExceededException' : undefined,
    );
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed (injected)');
      return fetch(input, init);
    };
    const tracker = createTracker({
      endpoint: url,
      storage: null,
      fetch: flaky,
      backoffBaseMs: 1,
      random: () => 0.5,
    });
    for (let i = 0; i < 5; i++) tracker.track('click', { metrics: { i } });
    await tracker.flush();
    expect(tracker.stats()).toMatchObject({ sent: 5, failed: 0, retried: 6, requests: 3 });
    const got = await read();
    expect(got.map((e) => e.metrics.i).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives up on a 4xx without retrying and reports it', async () => {
    const errors: DeliveryError[] = [];
    const { url } = await endpoint();
    const tracker = createTracker({
      endpoint: `${url}/../nope`,
      storage: null,
      onError: (e) => errors.push(e),
    });
    tracker.track('click');
    await tracker.flush();
    expect(tracker.stats()).toMatchObject({ sent: 0, failed: 1, retried: 0, requests: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.status).toBe(404);
    expect(errors[0]!.retryable).toBe(false);
    expect(errors[0]!.message).toContain('1 event(s) not delivered');
  });

  it('bounds the queue and validates events and options with the value received', () => {
    const tracker = createTracker({
      endpoint: 'http://127.0.0.1:9/ingest',
      storage: null,
      maxQueue: 2,
      flushIntervalMs: 60_000,
    });
    expect(tracker.track('a')).toBe(true);
    expect(tracker.track('b')).toBe(true);
    expect(tracker.track('c')).toBe(false);
    expect(tracker.stats()).toMatchObject({ tracked: 2, dropped: 1, queued: 2 });
    expect(() => tracker.track('bad type')).toThrow(
      new TrackerError('type must be 1–64 characters of [A-Za-z0-9_.:-]; received "bad type"'),
    );
    expect(() => tracker.track('x', { metrics: { t: Number.NaN } })).toThrow(
      'metrics.t must be a finite number',
    );
    expect(() => tracker.track('x', { dims: { __p: 'a' } })).toThrow('dims names must match');
    expect(() => createTracker({ endpoint: 'http://x/ingest', maxBatch: 501 })).toThrow(
      'maxBatch must be an integer between 1 and 500; received 501',
    );
    expect(() => createTracker({ endpoint: 'ftp://x' })).toThrow(
      'endpoint must be an http(s) URL; received "ftp://x"',
    );
  });

  it('hands the queue to sendBeacon in requests under 60 KB when the page hides', async () => {
    const { url, read } = await endpoint();
    const beacons: string[] = [];
    const delivered: Promise<unknown>[] = [];
    const tracker = createTracker({
      endpoint: url,
      storage: null,
      maxBatch: 500,
      flushIntervalMs: 60_000,
      sendBeacon: (u, body) => {
        beacons.push(body);
        delivered.push(fetch(u, { method: 'POST', body }).then((r) => r.status));
        return true;
      },
    });
    const dims = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`d${i}`, 'x'.repeat(128)]));
    for (let i = 0; i < 20; i++) tracker.track('big', { dims, metrics: { i } });
    tracker.flushOnHide();
    expect(beacons.length).toBeGreaterThan(1);
    for (const b of beacons) expect(new TextEncoder().encode(b).byteLength).toBeLessThan(60_000);
    expect(beacons.map((b) => JSON.parse(b).records.length).reduce((a, b) => a + b)).toBe(20);
    expect(tracker.stats()).toMatchObject({ sent: 0, beaconed: 20, queued: 0, requests: beacons.length });
    expect(await Promise.all(delivered)).toEqual(beacons.map(() => 200));
    expect((await read()).map((e) => e.metrics.i).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('keeps the browser limits equal to the envelope limits, source shortened by the endpoint prefix', () => {
    const { maxSourceLength, ...rest } = WEB_LIMITS;
    for (const [k, v] of Object.entries(rest)) expect(LIMITS[k as keyof typeof LIMITS]).toBe(v);
    // The public endpoint stores `web:<source>` and a source is at most 128 characters.
    expect(maxSourceLength).toBe(128 - 'web:'.length);
  });

  it('takes a source the public endpoint accepts and refuses, client-side, one it would answer 400 to', async () => {
    // GIVEN the public endpoint's rules (sources prefixed web:)
    const { url, read } = await endpoint(
      undefined,
      webIngestPolicy({ maxRecordsPerRequest: 100, webEventTypes: ['pageview'] }),
    );
    const longest = 's'.repeat(124);
    // WHEN a tracker sends with the longest source THEN it is stored prefixed, nothing refused
    const tracker = createTracker({ endpoint: url, storage: null, source: longest, flushOnHide: false });
    tracker.track('pageview');
    await tracker.flush();
    expect(tracker.stats()).toMatchObject({ sent: 1, failed: 0 });
    expect((await read()).map((e) => e.source)).toEqual([`web:${longest}`]);
    // AND one character more is a TrackerError naming the limit, before anything is sent
    expect(() =>
      createTracker({ endpoint: url, storage: null, source: `${longest}s`, flushOnHide: false }),
    ).toThrow(
      /source must be 1–124 characters \(the ingest endpoint prefixes "web:"\); received 125 characters/,
    );
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        records: [
          {
            v: 1,
            eventId: 'e1',
            source: `${longest}s`,
            type: 'pageview',
            ts: new Date().toISOString(),
            metrics: {},
            dims: {},
          },
        ],
      }),
    });
    // (the server's own answer to that source, which the client-side check spares the page)
    expect(res.status).toBe(400);
    await tracker.close();
  });
});
