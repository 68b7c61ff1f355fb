/**
 * The dashboard page's data model: pure functions over the aggregates API's responses (labels, number
 * formats, the time axis, series alignment, the value a picker names). No DOM, no uPlot: Node tests import
 * it, and `app.ts` renders what it computes.
 */
import type { SeriesResponse } from '../api.ts';

/** A point of a series, as the API returns it. */
export type SeriesPoint = SeriesResponse['series'][number]['points'][number];

/** uPlot's aligned data: x values (seconds), then one y array per series (`null`: no value). */
export type AlignedSeries = [number[], ...(number | null)[][]];

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
/** Whole numbers with thousands separators. */
export const fmtInt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A value for a label or a KPI: `–` when missing, 2 decimals below 1,000, whole numbers above. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? fmtInt.format(v) : fmt.format(v);
}

/** A lag in the unit that reads best: ms below 1 s, seconds below 2 min, else minutes; `?` when unknown. */
export function formatLag(ms: number | null): string {
  if (ms === null) return '?';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A group's legend: the value alone for one dim, `name=value` pairs for more, `(none)` for a missing dim. */
export function dimsLabel(dims: Record<string, string>): string {
  const entries = Object.entries(dims);
  if (entries.length === 0) return 'all events';
  return entries
    .map(([k, v]) => (entries.length === 1 ? v || '(none)' : `${k}=${v || '(none)'}`))
    .join(' · ');
}

/** What a value key (`count`, `distinct:<field>`, `<metric>.<stat>`) reads as on an axis. */
export function valueLabel(key: string): string {
  if (key === 'count') return 'events';
  if (key.startsWith('distinct:')) return `distinct ${key.slice('distinct:'.length)} (est.)`;
  const dot = key.indexOf('.');
  return `${key.slice(0, dot)} (${key.slice(dot + 1)})`;
}

/** Every window start from the first to the last with data (gaps stay visible as nulls), epoch ms. */
export function windowsAxis(ts: Iterable<number>, windowMs: number): number[] {
  const sorted = [...new Set(ts)].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const out: number[] = [];
  for (let t = sorted[0]!; t <= sorted.at(-1)!; t += windowMs) out.push(t);
  return out;
}

/** The displayed groups' points on one time axis (seconds), `null` where a group has no window. */
export function align(
  shown: SeriesResponse['series'],
  windowMs: number,
  pick: (p: SeriesPoint) => number | null,
): AlignedSeries {
  const xs = windowsAxis(
    shown.flatMap((s) => s.points.map((p) => p.t)),
    windowMs,
  );
  const ys = shown.map((s) => {
    const byT = new Map(s.points.map((p) => [p.t, pick(p)]));
    return xs.map((t) => byT.get(t) ?? null);
  });
  return [xs.map((t) => t / 1000), ...ys];
}

/** The value a key names in one point; null where the point has none. */
export function pointValue(p: SeriesPoint, key: string): number | null {
  if (key === 'count') return p.count;
  if (key.startsWith('distinct:')) return p.distinct?.[key.slice('distinct:'.length)] ?? null;
  const dot = key.indexOf('.');
  const metric = key.slice(0, dot);
  const stat = key.slice(dot + 1);
  const m = p.metrics[metric] as unknown as Record<string, number | null> | undefined;
  const v = m?.[stat];
  return typeof v === 'number' ? v : null;
}

/** Series drawn at once (the largest groups); pick a group to see any other. */
export const MAX_LINES = 8;
/** The group picker's value for "every group". */
export const ALL_GROUPS = '__all__';

/** The series to draw: the largest {@link MAX_LINES} for {@link ALL_GROUPS}, else the picked group. */
export function shownSeries(series: SeriesResponse['series'], group: string): SeriesResponse['series'] {
  return group === ALL_GROUPS ? series.slice(0, MAX_LINES) : series.filter((s) => s.key === group);
}

/** Events per window over the shown groups (exact integer sums) on the windows axis, and their total. */
export function eventsPerWindow(
  shown: SeriesResponse['series'],
  windowMs: number,
): { data: AlignedSeries; total: number } {
  const totals = new Map<number, number>();
  for (const s of shown) for (const p of s.points) totals.set(p.t, (totals.get(p.t) ?? 0) + p.count);
  const xs = windowsAxis(totals.keys(), windowMs);
  const total = xs.reduce((a, t) => a + (totals.get(t) ?? 0), 0);
  return { data: [xs.map((t) => t / 1000), xs.map((t) => totals.get(t) ?? null)], total };
}
