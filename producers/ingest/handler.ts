/**
 * The ingest HTTP endpoint as a Node `http` request handler: what the local cloud serves, and what any
 * Node HTTP server can mount.
 *
 * | route            | answer                                                                                 |
 * | ---------------- | -------------------------------------------------------------------------------------- |
 * | `POST /ingest`   | body `{"records":[envelope,...]}` (1–`policy.maxRecords` records, ≤ 10 MiB, `application/json` or `text/plain` for beacons) |
 * |                  | 200 `{"accepted":N}` · 400/413 `{"error","problems"}` (nothing written) · 503 `{"accepted","failed":[i...],"error"}` + `Retry-After` |
 * | `GET /sdk.js`    | the web SDK bundle (IIFE, global `Shardline`)                                           |
 * | `GET /healthz`   | 200 `{"ok":true}`                                                                       |
 * | `OPTIONS *`      | CORS preflight (204)                                                                    |
 *
 * A 503 lists the indices of the records Kinesis did not take after every retry; the others were written,
 * so a client resends only the listed ones (the web SDK does). Answers never carry Kinesis's own error
 * text (it names the stream and the account): that goes to the log.
 *
 * CORS: the answer names the caller's `Origin` only when it is one of `allowedOrigins` (or `*` when that
 * list holds `*`), like the API Gateway endpoint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { INGEST_LIMITS, type IngestPolicy, parseIngestBody } from './body.ts';
import { type PutOptions, putRecordsAll } from './put.ts';

export interface IngestHandlerOptions {
  /** Stream the records go to. */
  readonly streamName: string;
  /** Kinesis client (from `common/aws.ts`). */
  readonly client: KinesisClient;
  /** Origins whose pages may read the answers (CORS); `['*']` for any. @default ['*'] */
  readonly allowedOrigins?: readonly string[];
  /** Record count, event types and source namespace accepted. @default {} (any type, no prefix, 500) */
  readonly policy?: IngestPolicy;
  /** Source of `GET /sdk.js`. @default none (404) */
  readonly sdk?: () => Promise<string>;
  /** Retry settings of the PutRecords calls. @default {@link PutOptions} defaults */
  readonly put?: PutOptions;
  /** @default no logging */
  readonly log?: (line: string) => void;
}

/** Counters since the handler was created. */
export interface IngestStats {
  /** `POST /ingest` requests. */
  readonly requests: number;
  /** Records written to Kinesis. */
  readonly accepted: number;
  /** Requests rejected with 400/413. */
  readonly rejected: number;
  /** Records Kinesis did not take after every retry (answered with 503). */
  readonly failed: number;
}

export interface IngestHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  stats(): IngestStats;
}

/** Builds the request handler. */
export function createIngestHandler(options: IngestHandlerOptions): IngestHandler {
  const allowedOrigins = new Set(options.allowedOrigins ?? ['*']);
  const anyOrigin = allowedOrigins.has('*');
  const log = options.log ?? (() => undefined);
  const counters = { requests: 0, accepted: 0, rejected: 0, failed: 0 };

  const cors = (req: IncomingMessage, res: ServerResponse) => {
    if (anyOrigin) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      return;
    }
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin !== undefined && allowedOrigins.has(origin))
      res.setHeader('Access-Control-Allow-Origin', origin);
  };
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    cors(req, res);
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      ...headers,
    });
    res.end(text);
  };

  const readBody = (req: IncomingMessage): Promise<Uint8Array | 'too_large'> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.byteLength;
        if (size > INGEST_LIMITS.maxBodyBytes) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const ingest = async (req: IncomingMessage, res: ServerResponse) => {
    counters.requests++;
    const declared = Number(req.headers['content-length']);
    const body = await readBody(req);
    if (body === 'too_large' || (Number.isFinite(declared) && declared > INGEST_LIMITS.maxBodyBytes)) {
      counters.rejected++;
      const received = Number.isFinite(declared) ? declared : 'more';
      const error = `body: must be at most ${INGEST_LIMITS.maxBodyBytes} bytes; received ${received}`;
      send(req, res, 413, { error, problems: [{ index: null, path: 'body', message: error.slice(6) }] });
      return;
    }
    const parsed = parseIngestBody(body, options.policy);
    if (!parsed.ok) {
      counters.rejected++;
      log(`[ingest] ${parsed.status}: ${parsed.error}`);
      send(req, res, parsed.status, { error: parsed.error, problems: parsed.problems });
      return;
    }
    const out = await putRecordsAll(options.client, options.streamName, parsed.records, options.put);
    counters.accepted += out.accepted;
    counters.failed += out.failed.length;
    if (out.failed.length === 0) {
      send(req, res, 200, { accepted: out.accepted });
      return;
    }
    const first = out.failed[0]!;
    log(`[ingest] 503: ${out.failed.length} record(s) not written (${first.code}: ${first.message})`);
    send(
      req,
      res,
      503,
      {
        accepted: out.accepted,
        failed: out.failed.map((f) => f.index),
        error: `${out.failed.length} record(s) were not written; resend only those listed in failed`,
      },
      { 'Retry-After': '1' },
    );
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      cors(req, res);
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers':
          req.headers['access-control-request-headers'] ?? 'Content-Type, X-Api-Key',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    const allowed: Record<string, string> = { '/ingest': 'POST', '/sdk.js': 'GET', '/healthz': 'GET' };
    const want = allowed[path];
    if (want === undefined) {
      req.resume();
      send(req, res, 404, {
        error: `no route ${method} ${path}; routes: POST /ingest, GET /sdk.js, GET /healthz`,
      });
      return;
    }
    if (method !== want && !(want === 'GET' && method === 'HEAD')) {
      req.resume();
      send(
        req,
        res,
        405,
        { error: `${path} accepts ${want}; received ${method}` },
        { Allow: `${want}, OPTIONS` },
      );
      return;
    }
    if (path === '/healthz') {
      send(req, res, 200, { ok: true, stream: options.streamName });
      return;
    }
    if (path === '/sdk.js') {
      if (options.sdk === undefined) {
        send(req, res, 404, { error: 'this endpoint does not serve the web SDK' });
        return;
      }
      const js = await options.sdk();
      cors(req, res);
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : js);
      return;
    }
    await ingest(req, res);
  };

  return {
    handle(req, res) {
      route(req, res).catch((err: unknown) => {
        log(`[ingest] 500: ${(err as Error).message}`);
        if (!res.headersSent) send(req, res, 500, { error: 'internal error; see the endpoint log' });
        else res.destroy();
      });
    },
    stats: () => ({ ...counters }),
  };
}
