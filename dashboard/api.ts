/**
 * The aggregates HTTP API (read-only JSON). Routes:
 *
 * - `GET /api/rollups`: the rollups, their group-by names, windows and rankable values.
 * - `GET /api/series?rollup=&window=&from=&to=&dims.<name>=`: one series per dims group, one point per window
 *   (shard items merged by `readAggregates`), groups sorted by total count (largest first).
 * - `GET /api/top?rollup=&window=&at=&by=&n=`: the top-N dims groups of one window (`at`, default the latest
 *   window with data) by `count` or `<metric>.<avg|min|max|sum>`.
 * - `GET /api/status`: pipeline health (see `health.ts`).
 *
 * Bad parameters answer 400 with `{ error }` naming the value received and the rule.
 */
import type { ResolvedConfig, WindowSize } from '../common/config.ts';
import { WINDOW_MS } from '../common/config.ts';
import { ShardlineError, UsageError } from '../common/errors.ts';
import type { FinalMetric } from '../processors/index.ts';
import { type AggregateRow, dimNames, latestWindowStart, readAggregates } from '../queries/aggregates.ts';
import { type PipelineHealth, readHealth, ThroughputMeter } from './health.ts';
import type { DashboardClients, DashboardTarget } from './options.ts';
import { parseNoParams, parseSeriesQuery, parseTopQuery, rankKeys } from './params.ts';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface RollupInfo {
  readonly name: string;
  readonly eventType: string;
  readonly metrics: string[];
  readonly stats: string[];
  /** Group-by names as in rows' `dims`: `source`, `type`, or `<name>` for `dims.<name>`. */
  readonly dims: string[];
  readonly windows: WindowSize[];
  /** Values `top` may rank by and the page may chart. */
  readonly values: string[];
}

export interface SeriesPoint {
  /** Window start, ISO-8601 UTC. */
  readonly windowStart: string;
  /** Window start, epoch ms. */
  readonly t: number;
  readonly count: number;
  readonly metrics: Record<string, FinalMetric>;
  /** Distinct-count estimates by field, for rollups with `distinct:` stats. */
  readonly distinct?: Record<string, number>;
  readonly shards: number;
}

export interface Series {
  /** Encoded dims key (stable id of the group). */
  readonly key: string;
  readonly dims: Record<string, string>;
  /** Sum of the points' counts. */
  readonly count: number;
  readonly points: SeriesPoint[];
}

export interface SeriesResponse {
  readonly rollup: string;
  readonly window: WindowSize;
  readonly windowMs: number;
  readonly from: string;
  readonly to: string;
  readonly dims: Record<string, string>;
  readonly series: Series[];
}

export interface TopRow {
  readonly dims: Record<string, string>;
  readonly value: number | null;
  readonly count: number;
  readonly metrics: Record<string, FinalMetric>;
  readonly distinct?: Record<string, number>;
}

export interface TopResponse {
  readonly rollup: string;
  readonly window: WindowSize;
  /** Start of the window ranked, or null when the rollup has no data in the last {@link LATEST_LOOKBACK_WINDOWS}. */
  readonly windowStart: string | null;
  readonly by: string;
  readonly n: number;
  /** Groups in that window (before cutting to `n`). */
  readonly groups: number;
  readonly rows: TopRow[];
}

/** How far back `top` without `at` looks for the latest window with data. */
export const LATEST_LOOKBACK_WINDOWS = 120;

export interface ApiContext {
  readonly config: ResolvedConfig;
  readonly target: DashboardTarget;
  readonly clients: DashboardClients;
  readonly dataDir: string | undefined;
  readonly onFailureQueueUrl: string | undefined;
  readonly now?: () => number;
}

/** Value of a row for `count`, `<metric>.<stat>` (stat: avg, min, max, sum, pNN) or `distinct:<field>`. */
export function rowValue(
  row: Pick<AggregateRow, 'count' | 'metrics' | 'distinct'>,
  key: string,
): number | null {
  if (key === 'count') return row.count;
  if (key.startsWith('distinct:')) return row.distinct?.[key.slice('distinct:'.length)] ?? null;
  const dot = key.indexOf('.');
  const m = row.metrics[key.slice(0, dot)];
  if (!m) return null;
  const v = m[key.slice(dot + 1) as keyof FinalMetric];
  return typeof v === 'number' ? v : null;
}

/** Groups rows (sorted by window start) into series by dims, largest total count first. Pure. */
export function toSeries(rows: readonly AggregateRow[]): Series[] {
  const groups = new Map<string, { dims: Record<string, string>; count: number; points: SeriesPoint[] }>();
  for (const r of rows) {
    let g = groups.get(r.dimsKey);
    if (!g) {
      g = { dims: r.dims, count: 0, points: [] };
      groups.set(r.dimsKey, g);
    }
    g.count += r.count;
    g.points.push({
      windowStart: r.windowStart,
      t: Date.parse(r.windowStart),
      count: r.count,
      metrics: r.metrics,
      ...(r.distinct === undefined ? {} : { distinct: r.distinct }),
      shards: r.shards,
    });
  }
  return [...groups.entries()]
    .map(([key, g]) => ({ key, ...g, points: g.points.sort((a, b) => a.t - b.t) }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Ranks the rows of one window by `by`, nulls last, ties by dims key. Pure. */
export function rankRows(rows: readonly AggregateRow[], by: string, n: number): TopRow[] {
  return rows
    .map((r) => ({ r, value: rowValue(r, by) }))
    .sort(
      (a, b) =>
        (b.value ?? Number.NEGATIVE_INFINITY) - (a.value ?? Number.NEGATIVE_INFINITY) ||
        (a.r.dimsKey < b.r.dimsKey ? -1 : a.r.dimsKey > b.r.dimsKey ? 1 : 0),
    )
    .slice(0, n)
    .map(({ r, value }) => ({
      dims: r.dims,
      value,
      count: r.count,
      metrics: r.metrics,
      ...(r.distinct === undefined ? {} : { distinct: r.distinct }),
    }));
}

/** The API as a function of (path, query): IO only through the context's clients. */
export class AggregatesApi {
  readonly #ctx: ApiContext;
  readonly #meter = new ThroughputMeter();
  #health: Promise<PipelineHealth> | undefined;

  constructor(ctx: ApiContext) {
    this.#ctx = ctx;
  }

  /** Answers one request; never throws (errors become 4xx/5xx responses). */
  async handle(method: string, pathname: string, params: URLSearchParams): Promise<ApiResponse> {
    if (method !== 'GET' && method !== 'HEAD') {
      return {
        status: 405,
        body: { error: `method must be GET or HEAD; got ${method} (this API is read-only)` },
      };
    }
    try {
      switch (pathname) {
        case '/api/rollups':
          parseNoParams(params);
          return { status: 200, body: this.rollups() };
        case '/api/series':
          return { status: 200, body: await this.series(params) };
        case '/api/top':
          return { status: 200, body: await this.top(params) };
        case '/api/status':
          parseNoParams(params);
          return { status: 200, body: await this.status() };
        default:
          return {
            status: 404,
            body: {
              error: `no such route ${JSON.stringify(pathname)}; expected /api/rollups, /api/series, /api/top or /api/status`,
            },
          };
      }
    } catch (err) {
      if (err instanceof UsageError) return { status: 400, body: { error: err.message } };
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof ShardlineError ? err.code : 'INTERNAL';
      return { status: 502, body: { error: `reading the pipeline failed: ${message}`, code } };
    }
  }

  rollups(): { target: DashboardTarget; rollups: RollupInfo[] } {
    return {
      target: this.#ctx.target,
      rollups: this.#ctx.config.rollups.map((r) => ({
        name: r.name,
        eventType: r.eventType,
        metrics: [...r.metrics],
        stats: [...r.stats],
        dims: dimNames(r),
        windows: [...r.windows],
        values: rankKeys(r),
      })),
    };
  }

  async series(params: URLSearchParams): Promise<SeriesResponse> {
    const now = (this.#ctx.now ?? Date.now)();
    const query = parseSeriesQuery(this.#ctx.config, params, now);
    const rows = await readAggregates(this.#ctx.clients.dynamodb, this.#ctx.config, {
      rollup: query.rollup.name,
      window: query.window,
      from: query.from,
      to: query.to,
      dims: query.dims,
    });
    return {
      rollup: query.rollup.name,
      window: query.window,
      windowMs: WINDOW_MS[query.window],
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
      dims: query.dims,
      series: toSeries(rows),
    };
  }

  async top(params: URLSearchParams): Promise<TopResponse> {
    const now = (this.#ctx.now ?? Date.now)();
    const query = parseTopQuery(this.#ctx.config, params, now);
    const w = WINDOW_MS[query.window];
    const read = (from: number, to: number) =>
      readAggregates(this.#ctx.clients.dynamodb, this.#ctx.config, {
        rollup: query.rollup.name,
        window: query.window,
        from,
        to,
      });
    // Without `at`: the latest window with data (one index read), then only that window's items.
    const start =
      query.at ??
      (await latestWindowStart(this.#ctx.clients.dynamodb, this.#ctx.config, {
        rollup: query.rollup.name,
        window: query.window,
        from: Math.floor(now / w) * w - LATEST_LOOKBACK_WINDOWS * w,
        to: now + 2 * w,
      })) ??
      null;
    const rows: AggregateRow[] = start === null ? [] : await read(start, start + w);
    return {
      rollup: query.rollup.name,
      window: query.window,
      windowStart: start === null ? null : new Date(start).toISOString(),
      by: query.by,
      n: query.n,
      groups: rows.length,
      rows: rankRows(rows, query.by, query.n),
    };
  }

  /** Concurrent callers share one read. */
  status(): Promise<PipelineHealth> {
    this.#health ??= readHealth({
      config: this.#ctx.config,
      target: this.#ctx.target,
      clients: this.#ctx.clients,
      meter: this.#meter,
      dataDir: this.#ctx.dataDir,
      onFailureQueueUrl: this.#ctx.onFailureQueueUrl,
      ...(this.#ctx.now ? { now: this.#ctx.now } : {}),
    }).finally(() => {
      this.#health = undefined;
    });
    return this.#health;
  }
}
