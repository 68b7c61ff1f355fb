/**
 * The archive-side SQL that reconcile and backfill share (Athena's dialect, which DuckDB runs with the
 * `engine/compat.ts` shims): the events a rollup folds, read from the archive; one rollup window recomputed;
 * and the instant before which windows are settled.
 */
import {
  distinctFieldsOf,
  quantileStats,
  type ResolvedConfig,
  type RollupConfig,
  WINDOW_MS,
  type WindowSize,
} from '../common/config.ts';
import { sqlString, timestampLiteral } from './catalog.ts';

const hour = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace('T', '-');

/** A map's value for a key, NULL when missing (Trino's `m[k]` fails on a missing key; `element_at` does not). */
const mapValue = (column: string, key: string) => `element_at(${column}, ${sqlString(key)})`;

function distinctExpr(field: string): string {
  if (field === 'source' || field === 'type') return field;
  if (field === 'eventId') return 'eventid';
  return mapValue('dims', field.slice('dims.'.length));
}

function groupExpr(by: string): string {
  if (by === 'source' || by === 'type') return by;
  return `coalesce(${mapValue('dims', by.slice('dims.'.length))}, '')`;
}

/** Window start (epoch ms) of `ts` for windows of `w` ms, in SQL both DuckDB (shimmed) and Athena run. */
export function windowStartSql(w: number): string {
  return `CAST(floor(to_unixtime(ts) * 1000 / ${w}) AS BIGINT) * ${w}`;
}

/**
 * The SQL (Athena's dialect, which DuckDB runs with the `engine/compat.ts` shims) selecting `columns` from the archive events a rollup folds with event time in `[from, to)`:
 * deduplicated by `eventid` (CTE `e`, one row per event; rows without an `eventid` or with `v` other than 1
 * cannot have been aggregated), without the events the processor quarantined for any reason (CTE `q`: `late`
 * and `future_timestamp` envelopes, and invalid records such as `unsupported_version` that Firehose's Parquet
 * conversion still archived), restricted to the rollup's event type and metrics, and reading only the hour
 * partitions such events can arrive in. Shared by reconcile (which aggregates in SQL) and backfill (which
 * folds the events with the processor's own core).
 */
export function rollupEventsSql(
  config: ResolvedConfig,
  rollup: RollupConfig,
  from: number,
  to: number,
  columns: readonly string[],
): string {
  const events = config.archive.tableName;
  const quarantine = config.quarantine.tableName;
  // Arrival lies in [ts - maxFutureSkew, ts + allowedLateness]; Firehose names an object by its oldest arrival.
  const lo = hour(
    from - config.processing.maxFutureSkewSeconds * 1000 - config.archive.bufferIntervalSeconds * 1000,
  );
  const hi = hour(to + config.processing.allowedLatenessSeconds * 1000);
  const qlo = hour(from - config.processing.maxFutureSkewSeconds * 1000 - 3_600_000);
  const conds: string[] = [];
  if (rollup.eventType !== '*') conds.push(`type = ${sqlString(rollup.eventType)}`);
  if (rollup.metrics.length > 0) {
    conds.push(`(${rollup.metrics.map((m) => `${mapValue('metrics', m)} IS NOT NULL`).join(' OR ')})`);
  }
  return `
WITH q AS (
  SELECT DISTINCT eventid FROM ${quarantine}
  WHERE dt >= ${sqlString(qlo)} AND eventid IS NOT NULL
),
e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(type) AS type, arbitrary(ts) AS ts,
         arbitrary(metrics) AS metrics, arbitrary(dims) AS dims
  FROM ${events}
  WHERE dt BETWEEN ${sqlString(lo)} AND ${sqlString(hi)} AND ts >= ${timestampLiteral(from)} AND ts < ${timestampLiteral(to)}
    AND v = 1 AND eventid IS NOT NULL
  GROUP BY eventid
)
SELECT ${columns.join(',\n       ')}
FROM e
WHERE eventid NOT IN (SELECT eventid FROM q)${conds.length ? ` AND ${conds.join(' AND ')}` : ''}`;
}

/**
 * The SQL (Athena's dialect; DuckDB runs it with the shims) that recomputes one rollup window over `[from, to)` (already aligned to windows) from the
 * archive. Exported for inspection and tests.
 */
export function rollupSql(
  config: ResolvedConfig,
  rollup: RollupConfig,
  window: WindowSize,
  from: number,
  to: number,
): string {
  const w = WINDOW_MS[window];
  const dims = rollup.by.map((b, i) => `${groupExpr(b)} AS d${i}`);
  const quantiles = quantileStats(rollup.stats);
  const metricCols = rollup.metrics.flatMap((m, i) => {
    const v = mapValue('metrics', m);
    // The value at rank floor(q * (n - 1)) of the sorted values (0-based; SQL arrays are 1-based): the
    // rank DDSketch reports (DuckDB's quantile_disc uses another one). Guarded: Trino rejects index 0.
    const sorted = `array_sort(array_agg(${v}) FILTER (WHERE ${v} IS NOT NULL))`;
    return [
      `count(${v}) AS m${i}_count`,
      `sum(${v}) AS m${i}_sum`,
      `sum(abs(${v})) AS m${i}_sumabs`,
      `min(${v}) AS m${i}_min`,
      `max(${v}) AS m${i}_max`,
      ...quantiles.map(
        ([, q], j) =>
          `CASE WHEN count(${v}) > 0 THEN ${sorted}[CAST(floor(CAST(${q} AS DOUBLE) * CAST(count(${v}) - 1 AS DOUBLE)) AS BIGINT) + 1] END AS m${i}_q${j}`,
      ),
    ];
  });
  const distinctCols = distinctFieldsOf(rollup.stats).map(
    (f, k) => `count(DISTINCT ${distinctExpr(f)}) AS x${k}`,
  );
  // By position: Trino does not group by output aliases.
  const groupBy = [...rollup.by.map((_, i) => String(i + 1)), String(rollup.by.length + 1)];
  const select = [...dims, `${windowStartSql(w)} AS ws`, 'count(*) AS n', ...metricCols, ...distinctCols];
  return `${rollupEventsSql(config, rollup, from, to, select)}
GROUP BY ${groupBy.join(', ')}`;
}

/**
 * The instant before which windows are settled: `now − allowedLateness − archive buffer interval − tumbling
 * window`. A window `[s, s + w)` is settled when `s + w < cutoff`: no event can still be folded into it
 * (later ones are quarantined as `late`), Firehose has flushed everything that arrived in time, and the
 * Lambda tumbling window that may carry its last events (`onClose` rollups, coarser windows of `live` ones)
 * has closed and written them. Pure.
 */
export function settledCutoff(config: ResolvedConfig, now: number): number {
  return (
    now -
    (config.processing.allowedLatenessSeconds +
      config.archive.bufferIntervalSeconds +
      config.eventSource.tumblingWindowInSeconds) *
      1000
  );
}
