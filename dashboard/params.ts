/**
 * Parsing and validation of the aggregates API's query parameters. Pure: every function takes the
 * request's `URLSearchParams` (and the config) and returns typed values or throws a {@link UsageError}
 * (answered as HTTP 400) whose message shows the value received and the rule.
 */
import {
  distinctFieldsOf,
  quantileStats,
  type ResolvedConfig,
  type RollupConfig,
  WINDOW_MS,
  type WindowSize,
} from '../common/config.ts';
import { UsageError } from '../common/errors.ts';
import { dimNames } from '../queries/aggregates.ts';
import { parseTimestamp } from '../queries/catalog.ts';

/** Most windows one series request may span. */
export const MAX_POINTS = 10_000;
/** Default number of windows shown when `from` is absent. */
export const DEFAULT_WINDOWS_SHOWN = 60;
/** Largest `n` of a top-N request. */
export const MAX_TOP_N = 100;

export interface SeriesQuery {
  readonly rollup: RollupConfig;
  readonly window: WindowSize;
  /** Window starts at or after (epoch ms). */
  readonly from: number;
  /** Window starts strictly before (epoch ms). */
  readonly to: number;
  /** Dims filter (names without `dims.`). */
  readonly dims: Record<string, string>;
}

export interface TopQuery {
  readonly rollup: RollupConfig;
  readonly window: WindowSize;
  /** Start of the window ranked (epoch ms), or null for the latest window holding data. */
  readonly at: number | null;
  /** `count`, or `<metric>.<avg|min|max|sum>`. */
  readonly by: string;
  readonly n: number;
}

const q = (s: string) => JSON.stringify(s);

function rejectUnknown(params: URLSearchParams, allowed: readonly string[], dimsOk: boolean): void {
  for (const key of new Set(params.keys())) {
    if (allowed.includes(key) || (dimsOk && key.startsWith('dims.'))) continue;
    throw new UsageError(
      `unknown parameter ${q(key)}; expected ${allowed.join(', ')}${dimsOk ? ' or dims.<name>' : ''}`,
    );
  }
}

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new UsageError(`${name} must be given once; got ${all.length} values`);
  return all[0];
}

function required(params: URLSearchParams, name: string, hint: string): string {
  const v = single(params, name);
  if (v === undefined || v === '') throw new UsageError(`${name} is required (${hint})`);
  return v;
}

/** The rollup named by `rollup`, which is required. */
export function parseRollup(config: ResolvedConfig, params: URLSearchParams): RollupConfig {
  const names = config.rollups.map((r) => r.name);
  const name = required(params, 'rollup', `one of ${names.join(', ')}`);
  const r = config.rollups.find((x) => x.name === name);
  if (!r) throw new UsageError(`rollup must be one of ${names.join(', ')}; got ${q(name)}`);
  return r;
}

/** `window`, one of the rollup's windows; defaults to the rollup's smallest. */
export function parseWindow(rollup: RollupConfig, params: URLSearchParams): WindowSize {
  const v = single(params, 'window');
  const sorted = [...rollup.windows].sort((a, b) => WINDOW_MS[a] - WINDOW_MS[b]);
  if (v === undefined) return sorted[0]!;
  if (!(rollup.windows as readonly string[]).includes(v)) {
    throw new UsageError(`window must be one of ${rollup.windows.join(', ')}; got ${q(v)}`);
  }
  return v as WindowSize;
}

/**
 * A time: ISO-8601, epoch ms, `now`, or relative to `now` like `-90s`, `-30m`, `-6h`, `-2d`.
 */
export function parseTimeValue(name: string, value: string, now: number): number {
  const ms = parseTimestamp(value, now);
  if (ms === undefined) {
    throw new UsageError(`${name} must be ISO-8601, epoch ms, "now" or relative like -1h; got ${q(value)}`);
  }
  return ms;
}

function parseRange(params: URLSearchParams, window: WindowSize, now: number): { from: number; to: number } {
  const w = WINDOW_MS[window];
  const toRaw = single(params, 'to');
  const fromRaw = single(params, 'from');
  const to = toRaw === undefined ? now + w : parseTimeValue('to', toRaw, now);
  const from =
    fromRaw === undefined
      ? Math.floor(to / w) * w - DEFAULT_WINDOWS_SHOWN * w
      : parseTimeValue('from', fromRaw, now);
  if (from >= to) {
    throw new UsageError(
      `from must be before to; got from ${new Date(from).toISOString()} and to ${new Date(to).toISOString()}`,
    );
  }
  const points = Math.ceil((to - from) / w);
  if (points > MAX_POINTS) {
    throw new UsageError(
      `range must span at most ${MAX_POINTS} windows of ${window}; got ${points} (narrow from/to or use a larger window)`,
    );
  }
  return { from, to };
}

function parseDims(rollup: RollupConfig, params: URLSearchParams): Record<string, string> {
  const names = dimNames(rollup);
  const dims: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    if (!key.startsWith('dims.')) continue;
    const name = key.slice('dims.'.length);
    if (!names.includes(name)) {
      throw new UsageError(
        `dims.<name> must name one of ${names.length ? names.join(', ') : '(none: this rollup has no group-by)'} for rollup ${rollup.name}; got ${q(key)}`,
      );
    }
    dims[name] = single(params, key) ?? '';
  }
  return dims;
}

/** `GET /api/series?rollup=&window=&from=&to=&dims.<name>=`. */
export function parseSeriesQuery(config: ResolvedConfig, params: URLSearchParams, now: number): SeriesQuery {
  rejectUnknown(params, ['rollup', 'window', 'from', 'to'], true);
  const rollup = parseRollup(config, params);
  const window = parseWindow(rollup, params);
  const { from, to } = parseRange(params, window, now);
  return { rollup, window, from, to, dims: parseDims(rollup, params) };
}

/**
 * The values a top-N may rank by: `count`, then `<metric>.<avg|min|max|sum|pNN>` for each metric kept, then
 * `distinct:<field>` for each distinct-count stat.
 */
export function rankKeys(rollup: RollupConfig): string[] {
  const stats: string[] = [];
  if (rollup.stats.includes('sum')) stats.push('avg');
  for (const s of ['min', 'max', 'sum'] as const) if (rollup.stats.includes(s)) stats.push(s);
  for (const s of quantileStats(rollup.stats)) stats.push(s[0]);
  return [
    'count',
    ...rollup.metrics.flatMap((m) => stats.map((s) => `${m}.${s}`)),
    ...distinctFieldsOf(rollup.stats).map((f) => `distinct:${f}`),
  ];
}

/** `GET /api/top?rollup=&window=&at=&by=&n=`. */
export function parseTopQuery(config: ResolvedConfig, params: URLSearchParams, now: number): TopQuery {
  rejectUnknown(params, ['rollup', 'window', 'at', 'by', 'n'], false);
  const rollup = parseRollup(config, params);
  const window = parseWindow(rollup, params);
  const atRaw = single(params, 'at');
  let at: number | null = null;
  if (atRaw !== undefined && atRaw !== 'latest') {
    const t = parseTimeValue('at', atRaw, now);
    at = Math.floor(t / WINDOW_MS[window]) * WINDOW_MS[window];
  }
  const keys = rankKeys(rollup);
  const by = single(params, 'by') ?? 'count';
  if (!keys.includes(by)) throw new UsageError(`by must be one of ${keys.join(', ')}; got ${q(by)}`);
  const nRaw = single(params, 'n') ?? '10';
  const n = Number(nRaw);
  if (!/^\d+$/.test(nRaw) || n < 1 || n > MAX_TOP_N) {
    throw new UsageError(`n must be an integer between 1 and ${MAX_TOP_N}; got ${q(nRaw)}`);
  }
  return { rollup, window, at, by, n };
}

/** Routes without parameters reject any. */
export function parseNoParams(params: URLSearchParams): void {
  for (const key of params.keys()) throw new UsageError(`unknown parameter ${q(key)}; this route takes none`);
}
