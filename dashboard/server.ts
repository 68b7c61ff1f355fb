/**
 * The dashboard's HTTP server: the aggregates API under `/api/`, the page (HTML and CSS from
 * `dashboard/public/`, its TypeScript bundled by esbuild in memory at start) and uPlot straight from
 * `node_modules`. Nothing is fetched from the network; read-only; loopback by default.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, dynamodbClient, kinesisClient } from '../common/aws.ts';
import { ServiceError } from '../common/errors.ts';
import { AggregatesApi } from './api.ts';
import { type DashboardClients, type DashboardOptions, resolveDashboardOptions } from './options.ts';

export interface DashboardServer {
  /** Base URL, e.g. `http://127.0.0.1:43123/`. */
  readonly url: string;
  /** Stops listening, closes open connections and destroys the clients the dashboard created. */
  close(): Promise<void>;
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

async function buildAssets(refreshSeconds: number): Promise<Map<string, Asset>> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(HERE, 'page', 'app.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = out.outputFiles[0]!.contents;
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const html = readFileSync(join(HERE, 'public', 'index.html'), 'utf8').replace(
    '{{REFRESH_SECONDS}}',
    String(refreshSeconds),
  );
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(html) }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(js) }],
    ['/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(HERE, 'public', 'app.css')) }],
    ['/favicon.svg', { type: 'image/svg+xml', body: readFileSync(join(HERE, 'public', 'favicon.svg')) }],
    [
      '/vendor/uPlot.iife.min.js',
      { type: 'text/javascript; charset=utf-8', body: readFileSync(join(uplotDir, 'uPlot.iife.min.js')) },
    ],
    [
      '/vendor/uPlot.min.css',
      { type: 'text/css; charset=utf-8', body: readFileSync(join(uplotDir, 'uPlot.min.css')) },
    ],
  ]);
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, head: boolean): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': CSP,
  });
  res.end(head ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown, head: boolean) =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, head);

/**
 * Starts the dashboard: the aggregates API and the page, on `host:port`.
 *
 * @example
 * ```ts
 * const dash = await startDashboard({ config, target: 'local', dataDir: '.shardline' });
 * console.log(dash.url); // http://127.0.0.1:41234/
 * await dash.close();
 * ```
 */
export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const opts = resolveDashboardOptions(options);
  const owned = opts.clients === undefined;
  const clients: DashboardClients = opts.clients ?? {
    kinesis: kinesisClient({ region: opts.config.region }),
    dynamodb: dynamodbClient({ region: opts.config.region }),
    ...(opts.target === 'aws' ? { sqs: new SQSClient(clientConfig({ region: opts.config.region })) } : {}),
  };
  const destroyOwned = () => {
    if (!owned) return;
    clients.kinesis.destroy();
    clients.dynamodb.destroy();
    clients.sqs?.destroy();
  };
  let assets: Map<string, Asset>;
  try {
    assets = await buildAssets(opts.refreshSeconds);
  } catch (err) {
    destroyOwned();
    throw new ServiceError(`dashboard page failed to build: ${(err as Error).message}`, { cause: err });
  }
  const api = new AggregatesApi({
    config: opts.config,
    target: opts.target,
    clients,
    dataDir: opts.dataDir,
    onFailureQueueUrl: opts.onFailureQueueUrl,
  });
  const loopbackOnly = LOOPBACK_NAMES.has(opts.host);

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    // A page on another site must not read the API through DNS rebinding: on loopback, only loopback names.
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (loopbackOnly && !LOOPBACK_NAMES.has(hostName)) {
      return sendJson(
        res,
        403,
        { error: `Host must be a loopback name; got ${JSON.stringify(hostName)}` },
        head,
      );
    }
    if (url.pathname.startsWith('/api/')) {
      const out = await api.handle(method, url.pathname, url.searchParams);
      return sendJson(res, out.status, out.body, head);
    }
    if (method !== 'GET' && !head)
      return sendJson(res, 405, { error: `method must be GET or HEAD; got ${method}` }, head);
    const asset = assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (!asset) return sendJson(res, 404, { error: `no such page ${JSON.stringify(url.pathname)}` }, head);
    return send(res, 200, asset.type, asset.body, head);
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String((err as Error)?.message ?? err) }, false);
      else res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    destroyOwned();
    throw new ServiceError(
      `dashboard cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(destroyOwned);
      return closing;
    },
  };
}
