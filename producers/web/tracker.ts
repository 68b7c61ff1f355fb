/**
 * The browser tracker: `track(type, {metrics, dims})` queues a v1 envelope; batches are POSTed as
 * `{"records":[...]}` to an ingest endpoint (the local cloud's, or API Gateway's on AWS), retried with
 * full-jitter backoff on network errors, 429 and 5xx; a 503 listing `failed` indices resends only those.
 * When the page is hidden or unloaded, what is queued leaves with `navigator.sendBeacon` (or a `keepalive`
 * fetch when an API key must be sent as a header).
 */
import { describeValue } from '../../common/errors.ts';
import { WEB_SOURCE_PREFIX } from '../../common/limits.ts';
import { checkInteger } from '../../common/validate.ts';
import { buildEnvelope, randomId, type TrackFields, WEB_LIMITS, type WebEnvelope } from './envelope.ts';
import { DeliveryError, TrackerError } from './errors.ts';

/** The storage the session id lives in (`sessionStorage` in a browser). */
export interface SessionStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface TrackerOptions {
  /** Ingest URL: `<ingestUrl>` of `shardline up --json`, or the stack's `IngestUrl` output on AWS. */
  readonly endpoint: string;
  /**
   * API Gateway key, sent as `x-api-key`. With a key, page-hide flushes use a `keepalive` fetch (a beacon
   * cannot carry headers). @default none
   */
  readonly apiKey?: string;
  /** Events per request, 1–500. @default 100 */
  readonly maxBatch?: number;
  /** How long a partial batch waits before it is sent, in ms, 0–60,000. @default 1000 */
  readonly flushIntervalMs?: number;
  /** Events queued at most, 1–100,000; when full, `track()` drops the event and returns false. @default 1000 */
  readonly maxQueue?: number;
  /** Attempts per batch (first try included), 1–20. @default 5 */
  readonly maxAttempts?: number;
  /** Backoff base in ms, 1–60,000: a retry waits uniform in [0, min(cap, base·2^(n-1))). @default 200 */
  readonly backoffBaseMs?: number;
  /** Backoff cap in ms, 1–600,000. @default 10000 */
  readonly backoffCapMs?: number;
  /**
   * The `source` of every event, 1–124 characters (the ingest endpoint prefixes `web:`, and a source is at
   * most 128). @default a session id kept in `sessionStorage` under `sessionKey`
   */
  readonly source?: string;
  /** `sessionStorage` key of the session id. @default 'shardline.session' */
  readonly sessionKey?: string;
  /** Send what is queued on `pagehide` and when the page becomes hidden. @default true when `window` exists */
  readonly flushOnHide?: boolean;
  /** Called with every batch given up on (4xx other than 429, or attempts exhausted). @default none */
  readonly onError?: (error: DeliveryError) => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default navigator.sendBeacon when available */
  readonly sendBeacon?: (url: string, body: string) => boolean;
  /** @default sessionStorage when available, else an in-memory id */
  readonly storage?: SessionStore | null;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Counters since the tracker was created (events). */
export interface TrackerStats {
  /** Accepted by `track()`. */
  readonly tracked: number;
  /** Acknowledged by the endpoint. */
  readonly sent: number;
  /** Handed to `sendBeacon` / a keepalive fetch on page hide (no answer can be read). */
  readonly beaconed: number;
  /** Re-sends after a failed attempt. */
  readonly retried: number;
  /** Given up on (reported through `onError`). */
  readonly failed: number;
  /** Dropped because the queue was full. */
  readonly dropped: number;
  /** Queued, not yet sent. */
  readonly queued: number;
  /** HTTP requests made (beacons included). */
  readonly requests: number;
}

/** A beacon (and a keepalive fetch) may carry at most 64 KiB; keep a margin. */
const BEACON_BYTES = 60_000;

function int(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  return checkInteger(name, v ?? dflt, min, max, (message) => new TrackerError(message));
}

function sessionId(store: SessionStore | null, key: string): string {
  try {
    const existing = store?.getItem(key);
    if (existing) return existing;
    const id = `web-${randomId()}`;
    store?.setItem(key, id);
    return id;
  } catch {
    return `web-${randomId()}`;
  }
}

function defaultStorage(): SessionStore | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // blocked storage (privacy settings) throws on access
  }
}

/**
 * Tracks events from a web page.
 *
 * @example
 * ```ts
 * const tracker = createTracker({ endpoint: 'http://127.0.0.1:4577/ingest' });
 * tracker.track('pageview', { dims: { page: location.pathname } });
 * tracker.track('purchase', { metrics: { amount: 39.9 }, dims: { page: '/checkout' } });
 * await tracker.flush();
 * ```
 */
export class Tracker {
  /** The `source` of every event (the session id). */
  readonly source: string;
  readonly #endpoint: string;
  readonly #apiKey: string | undefined;
  readonly #maxBatch: number;
  readonly #interval: number;
  readonly #maxQueue: number;
  readonly #maxAttempts: number;
  readonly #base: number;
  readonly #cap: number;
  readonly #fetch: typeof fetch;
  readonly #beacon: ((url: string, body: string) => boolean) | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #onError: ((e: DeliveryError) => void) | undefined;
  #queue: WebEnvelope[] = [];
  #sending: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #detach: () => void = () => undefined;
  readonly #c = { tracked: 0, sent: 0, beaconed: 0, retried: 0, failed: 0, dropped: 0, requests: 0 };

  constructor(options: TrackerOptions) {
    if (typeof options?.endpoint !== 'string' || !/^https?:\/\//.test(options.endpoint)) {
      throw new TrackerError(`endpoint must be an http(s) URL; received ${describeValue(options?.endpoint)}`);
    }
    this.#endpoint = options.endpoint;
    this.#apiKey = options.apiKey;
    this.#maxBatch = int('maxBatch', options.maxBatch, 100, 1, 500);
    this.#interval = int('flushIntervalMs', options.flushIntervalMs, 1000, 0, 60_000);
    this.#maxQueue = int('maxQueue', options.maxQueue, 1000, 1, 100_000);
    this.#maxAttempts = int('maxAttempts', options.maxAttempts, 5, 1, 20);
    this.#base = int('backoffBaseMs', options.backoffBaseMs, 200, 1, 60_000);
    this.#cap = int('backoffCapMs', options.backoffCapMs, 10_000, 1, 600_000);
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TrackerError('fetch must be available; received undefined');
    this.#fetch = f.bind(globalThis);
    const nav = (globalThis as { navigator?: Navigator }).navigator;
    this.#beacon =
      options.sendBeacon ??
      (typeof nav?.sendBeacon === 'function' ? (url, body) => nav.sendBeacon(url, body) : undefined);
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError;
    const storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.source = options.source ?? sessionId(storage, options.sessionKey ?? 'shardline.session');
    const max = WEB_LIMITS.maxSourceLength;
    if (this.source.length < 1 || this.source.length > max) {
      throw new TrackerError(
        `source must be 1–${max} characters (the ingest endpoint prefixes "${WEB_SOURCE_PREFIX}"); received ${this.source.length} characters: ${describeValue(this.source)}`,
      );
    }
    const win = (globalThis as { window?: Window }).window;
    if ((options.flushOnHide ?? win !== undefined) && win !== undefined) {
      const onHide = () => this.flushOnHide();
      const onVisibility = () => {
        if (win.document.visibilityState === 'hidden') onHide();
      };
      win.addEventListener('pagehide', onHide);
      win.document.addEventListener('visibilitychange', onVisibility);
      this.#detach = () => {
        win.removeEventListener('pagehide', onHide);
        win.document.removeEventListener('visibilitychange', onVisibility);
      };
    }
  }

  /**
   * Queues one event (`ts` = now, `source` = the session id, a random `eventId`). Returns false if the
   * queue is full (the event is dropped and counted) or the tracker is closed.
   *
   * @throws {@link TrackerError} the type, a metric or a dim breaks an envelope rule
   */
  track(type: string, fields: TrackFields = {}): boolean {
    const envelope = buildEnvelope(type, fields, {
      eventId: randomId(),
      source: this.source,
      nowMs: this.#now(),
    });
    if (this.#closed || this.#queue.length >= this.#maxQueue) {
      this.#c.dropped++;
      return false;
    }
    this.#queue.push(envelope);
    this.#c.tracked++;
    if (this.#queue.length >= this.#maxBatch) this.#kick();
    else this.#arm();
    return true;
  }

  /** Sends everything queued; resolves when each event is acknowledged or given up on. Never rejects. */
  async flush(): Promise<void> {
    this.#disarm();
    while (this.#queue.length > 0 || this.#sending !== null) {
      if (this.#sending === null) this.#kick(true);
      await this.#sending;
    }
  }

  /** Flushes, stops the timer and the page listeners; later `track()` calls return false. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#detach();
    await this.flush();
  }

  /**
   * Hands everything queued to `sendBeacon` (or a keepalive fetch with the API key) in ≤ 60 KB requests.
   * Called on `pagehide` / `visibilitychange` hidden; safe to call yourself.
   */
  flushOnHide(): void {
    this.#disarm();
    while (this.#queue.length > 0) {
      const batch: WebEnvelope[] = [];
      let bytes = 12;
      for (const e of this.#queue) {
        const size = JSON.stringify(e).length * 3 + 1; // an upper bound on UTF-8 bytes
        if (batch.length > 0 && (batch.length >= this.#maxBatch || bytes + size > BEACON_BYTES)) break;
        batch.push(e);
        bytes += size;
      }
      const body = JSON.stringify({ records: batch });
      let handed = false;
      if (this.#apiKey === undefined && this.#beacon !== undefined) {
        handed = this.#beacon(this.#endpoint, body);
      } else {
        this.#fetch(this.#endpoint, { ...this.#init(body), keepalive: true }).catch(() => undefined);
        handed = true;
      }
      if (!handed) break; // the browser refused (quota): keep them for the next flush
      this.#c.requests++;
      this.#c.beaconed += batch.length;
      this.#queue.splice(0, batch.length);
    }
  }

  stats(): TrackerStats {
    return { ...this.#c, queued: this.#queue.length };
  }

  #arm(): void {
    if (this.#timer !== null || this.#sending !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#kick(true);
    }, this.#interval);
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Starts the send loop if idle. `partial`: also send a batch smaller than `maxBatch`. */
  #kick(partial = false): void {
    if (this.#sending !== null) return;
    this.#disarm();
    this.#sending = (async () => {
      while (this.#queue.length >= this.#maxBatch || ((partial || this.#closed) && this.#queue.length > 0)) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        await this.#deliver(batch);
      }
    })().finally(() => {
      this.#sending = null;
      if (this.#queue.length > 0) this.#arm();
    });
  }

  #init(body: string): RequestInit {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.#apiKey !== undefined) headers['x-api-key'] = this.#apiKey;
    return { method: 'POST', headers, body, keepalive: body.length * 3 < BEACON_BYTES };
  }

  async #deliver(initial: WebEnvelope[]): Promise<void> {
    let batch = initial;
    let last: { status: number | null; message: string } = { status: null, message: '' };
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (attempt > 1) {
        this.#c.retried += batch.length;
        const ceiling = Math.min(this.#cap, this.#base * 2 ** Math.min(attempt - 2, 30));
        await new Promise((r) => setTimeout(r, Math.floor(this.#random() * ceiling)));
      }
      this.#c.requests++;
      let res: Response;
      try {
        res = await this.#fetch(this.#endpoint, this.#init(JSON.stringify({ records: batch })));
      } catch (err) {
        last = { status: null, message: `network error: ${(err as Error).message}` };
        continue;
      }
      const text = await res.text().catch(() => '');
      let answer: { accepted?: unknown; failed?: unknown; error?: unknown; message?: unknown } = {};
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        answer = {};
      }
      const reason =
        typeof answer.error === 'string'
          ? answer.error
          : typeof answer.message === 'string'
            ? answer.message
            : text.slice(0, 200);
      if (res.ok && !(Array.isArray(answer.failed) && answer.failed.length > 0)) {
        this.#c.sent += batch.length;
        return;
      }
      if (Array.isArray(answer.failed) && answer.failed.every((i) => Number.isInteger(i))) {
        // Partial success: the others were written; resend only the listed ones.
        const failed = new Set(answer.failed as number[]);
        const retry = batch.filter((_, i) => failed.has(i));
        this.#c.sent += batch.length - retry.length;
        batch = retry;
        last = { status: res.status, message: reason };
        if (batch.length === 0) return;
        continue;
      }
      last = { status: res.status, message: reason };
      if (res.status !== 429 && res.status < 500) break; // the request itself is wrong: resending cannot help
    }
    this.#c.failed += batch.length;
    const retryable = last.status === null || last.status === 429 || last.status >= 500;
    this.#onError?.(
      new DeliveryError(
        `${batch.length} event(s) not delivered to ${this.#endpoint} (${last.status === null ? 'no answer' : `HTTP ${last.status}`}): ${last.message}`,
        batch.length,
        last.status,
        retryable,
      ),
    );
  }
}

/** Creates a {@link Tracker}. */
export function createTracker(options: TrackerOptions): Tracker {
  return new Tracker(options);
}
