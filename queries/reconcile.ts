/**
 * Reconcile: recompute every rollup from the raw archive in SQL and compare it with the DynamoDB aggregates.
 *
 * The archive side deduplicates by `eventid` (the archive is at-least-once) and leaves out events the
 * quarantine archive lists (for any reason: `late` and `future_timestamp` envelopes, and invalid records the Parquet
 * conversion still archived, e.g. `unsupported_version`; archived but never
 * aggregated). For each window size the range is widened to whole windows: `[floor(from), ceil(to))`.
 *
 * Counts, metric counts, min and max must match exactly. Sums in DynamoDB are correctly rounded exact sums
 * while SQL sums are ordinary floating-point sums, so a sum matches when
 * `|archive - aggregates| <= sumTolerance * sum(|x|)` (default 1e-9; a naive sum of n values errs by at most
 * about n * 1.1e-16 * sum(|x|)).
 *
 * Sketch stats are compared with exact SQL within their declared error bounds:
 * - a quantile `pNN` of a metric: the exact value is the one at rank floor(q * (n - 1)) of the sorted values
 *   (the rank DDSketch reports), and the sketch passes when `|sketch - exact| <= 1% * |exact| + 1e-9`
 *   (1e-9: magnitudes below it count as 0 in sketches).
 * - `distinct:<field>`: compared with `count(DISTINCT field)` (missing dims are not values, like SQL NULL):
 *   equal up to 256 distinct values (the HLL is an exact set there), else within 4 standard errors,
 *   `4 * 1.63% ≈ 6.5%` of the exact count: a correct sketch fails this only with probability ~6e-5 per window.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  distinctFieldsOf,
  quantileStats,
  type ResolvedConfig,
  type RollupConfig,
  WINDOW_MS,
  type WindowSize,
} from '../common/config.ts';
import { describeValue, UsageError } from '../common/errors.ts';
import { encodeDims } from '../processors/core/rollup.ts';
import { EXACT_LIMIT, HLL_STANDARD_ERROR } from '../processors/core/sketch/hll.ts';
import { QUANTILE_RELATIVE_ACCURACY, QUANTILE_ZERO_THRESHOLD } from '../processors/core/sketch/quantiles.ts';
import type { FinalMetric } from '../processors/core/state.ts';
import { type AggregateRow, dimsRecord, findRollup, readAggregates } from './aggregates.ts';
import { type ArchiveEngine, openDuckDbArchive } from './archive.ts';
import { rollupSql, settledCutoff } from './archive-sql.ts';

export { rollupEventsSql, rollupSql, settledCutoff, windowStartSql } from './archive-sql.ts';

/** Default relative tolerance of sums (relative to the sum of absolute values). */
export const DEFAULT_SUM_TOLERANCE = 1e-9;
/** Standard errors a distinct-count estimate may be off by (above the HLL's exact range). */
export const DISTINCT_TOLERANCE_STANDARD_ERRORS = 4;

/** Largest accepted `|sketch - exact|` for a quantile whose exact value is `exact`. */
export function quantileBound(exact: number): number {
  // (1 + 1e-12): floating-point rounding in the sketch's log mapping.
  return QUANTILE_RELATIVE_ACCURACY * Math.abs(exact) * (1 + 1e-12) + QUANTILE_ZERO_THRESHOLD;
}

/** Largest accepted `|estimate - exact|` for a distinct count whose exact value is `exact`. */
export function distinctBound(exact: number): number {
  return exact <= EXACT_LIMIT ? 0 : DISTINCT_TOLERANCE_STANDARD_ERRORS * HLL_STANDARD_ERROR * exact;
}

/** One metric of one aggregate recomputed from the archive. */
export interface ArchiveMetric {
  readonly count: number;
  readonly sum: number;
  /** Sum of absolute values: the scale of the sum's rounding error. */
  readonly sumAbs: number;
  readonly min: number;
  readonly max: number;
  /** Exact quantiles by stat name (`p99`), for rollups with quantile stats. */
  readonly quantiles?: Record<string, number>;
}

/** One aggregate recomputed from the archive. */
export interface ArchiveAggregate {
  readonly window: WindowSize;
  readonly dims: Record<string, string>;
  readonly dimsKey: string;
  /** ISO-8601 UTC. */
  readonly windowStart: string;
  readonly count: number;
  readonly metrics: Record<string, ArchiveMetric>;
  /** Exact `count(DISTINCT field)` per `distinct:<field>` stat. */
  readonly distinct?: Record<string, number>;
}

export interface Drift {
  readonly rollup: string;
  readonly window: WindowSize;
  readonly dims: Record<string, string>;
  readonly windowStart: string;
  /** `count`, `metrics.<name>.<count|sum|min|max|pNN>` or `distinct.<field>`. */
  readonly field: string;
  /** Value recomputed from the archive; null when the archive has no such aggregate or metric. */
  readonly archive: number | null;
  /** Value in DynamoDB; null when DynamoDB has no such aggregate or metric. */
  readonly aggregates: number | null;
  /** Largest accepted difference, for fields compared within an error bound (sketches and sums). */
  readonly bound?: number;
}

export interface ComparisonResult {
  /** Aggregates (window, dims, window start) present on either side. */
  readonly windowsChecked: number;
  readonly drifts: Drift[];
}

export interface ReconcileReport extends ComparisonResult {
  /** No drift in a settled window (differences in unsettled windows are `pending`, not drift). */
  readonly ok: boolean;
  readonly from: string;
  readonly to: string;
  /**
   * Windows ending after this instant are not settled yet (now − allowed lateness − the archive's Firehose
   * buffer interval): their events may still arrive or sit in Firehose's buffer, so a difference there is
   * `pending`. ISO-8601.
   */
  readonly settledBefore: string;
  /** Differences in unsettled windows: expected to resolve once Firehose flushes. Not drift. */
  readonly pending: Drift[];
  /** Aggregates (window, dims, window start) with a pending difference. */
  readonly windowsPending: number;
  /** The engine that read the archive. */
  readonly engine: 'duckdb' | 'athena';
  readonly rollupsChecked: number;
  readonly sumTolerance: number;
  /** Bytes the archive queries read. */
  readonly bytesScanned: number;
}

const keyOf = (r: { window: string; dimsKey: string; windowStart: string }) =>
  `${r.window}|${r.windowStart}|${r.dimsKey}`;

/**
 * Compares one rollup's archive recomputation with its DynamoDB rows. Pure.
 * Drifts come sorted by window, window start, dims and field.
 */
export function compareAggregates(
  rollup: string,
  archive: readonly ArchiveAggregate[],
  aggregates: readonly AggregateRow[],
  sumTolerance: number = DEFAULT_SUM_TOLERANCE,
): ComparisonResult {
  const a = new Map(archive.map((r) => [keyOf(r), r]));
  const d = new Map(aggregates.map((r) => [keyOf(r), r]));
  const keys = [...new Set([...a.keys(), ...d.keys()])].sort();
  const drifts: Drift[] = [];
  for (const key of keys) {
    const x = a.get(key);
    const y = d.get(key);
    const base = (x ?? y)!;
    const drift = (field: string, av: number | null, dv: number | null, bound?: number) =>
      drifts.push({
        rollup,
        window: base.window,
        dims: base.dims,
        windowStart: base.windowStart,
        field,
        archive: av,
        aggregates: dv,
        ...(bound === undefined ? {} : { bound }),
      });
    if (x === undefined || y === undefined || x.count !== y.count) {
      drift('count', x?.count ?? null, y?.count ?? null);
      if (x === undefined || y === undefined) continue;
    }
    const names = [...new Set([...Object.keys(x.metrics), ...Object.keys(y.metrics)])].sort();
    for (const m of names) {
      const xm = x.metrics[m];
      const ym = y.metrics[m];
      if (xm === undefined || ym === undefined) {
        drift(`metrics.${m}.count`, xm?.count ?? null, ym?.count ?? null);
        continue;
      }
      if (xm.count !== ym.count) drift(`metrics.${m}.count`, xm.count, ym.count);
      if (Math.abs(xm.sum - ym.sum) > sumTolerance * xm.sumAbs)
        drift(`metrics.${m}.sum`, xm.sum, ym.sum, sumTolerance * xm.sumAbs);
      if (xm.min !== ym.min) drift(`metrics.${m}.min`, xm.min, ym.min);
      if (xm.max !== ym.max) drift(`metrics.${m}.max`, xm.max, ym.max);
      for (const [label, exact] of Object.entries(xm.quantiles ?? {})) {
        const v = ym[label as keyof FinalMetric];
        const bound = quantileBound(exact);
        if (typeof v !== 'number' || !(Math.abs(v - exact) <= bound))
          drift(`metrics.${m}.${label}`, exact, typeof v === 'number' ? v : null, bound);
      }
    }
    for (const [field, exact] of Object.entries(x.distinct ?? {})) {
      // No sketch on the DynamoDB side means no value was seen: 0 distinct.
      const v = y.distinct?.[field] ?? 0;
      const bound = distinctBound(exact);
      if (!(Math.abs(v - exact) <= bound)) drift(`distinct.${field}`, exact, v, bound);
    }
  }
  return { windowsChecked: keys.length, drifts };
}

/** Turns the rows of {@link rollupSql} into archive aggregates. Pure. */
export function archiveRows(
  rollup: RollupConfig,
  window: WindowSize,
  rows: readonly Record<string, unknown>[],
) {
  const quantiles = quantileStats(rollup.stats);
  const fields = distinctFieldsOf(rollup.stats);
  return rows.map((r): ArchiveAggregate => {
    const values = rollup.by.map((_, i) => String(r[`d${i}`] ?? ''));
    const dims = dimsRecord(rollup, values);
    const metrics: Record<string, ArchiveMetric> = {};
    rollup.metrics.forEach((m, i) => {
      const count = Number(r[`m${i}_count`] ?? 0);
      if (count === 0) return;
      const metric: ArchiveMetric = {
        count,
        sum: Number(r[`m${i}_sum`]),
        sumAbs: Number(r[`m${i}_sumabs`]),
        min: Number(r[`m${i}_min`]),
        max: Number(r[`m${i}_max`]),
      };
      if (quantiles.length > 0) {
        const qs: Record<string, number> = {};
        quantiles.forEach(([label], j) => {
          qs[label] = Number(r[`m${i}_q${j}`]);
        });
        metrics[m] = { ...metric, quantiles: qs };
      } else metrics[m] = metric;
    });
    const row: ArchiveAggregate = {
      window,
      dims,
      dimsKey: encodeDims(values),
      windowStart: new Date(Number(r.ws)).toISOString(),
      count: Number(r.n),
      metrics,
    };
    if (fields.length === 0) return row;
    const distinct: Record<string, number> = {};
    fields.forEach((f, k) => {
      distinct[f] = Number(r[`x${k}`] ?? 0);
    });
    return { ...row, distinct };
  });
}

export interface ReconcileOptions {
  readonly config: ResolvedConfig;
  /** Local cloud state folder holding the archive (`<dataDir>/s3/<bucket>/`), read when `archive` is not given. */
  readonly dataDir?: string;
  /** The engine reading the archive (Athena for a deployed stack). @default DuckDB over `dataDir` */
  readonly archive?: ArchiveEngine;
  /** Clock, epoch ms: decides which windows are settled. @default Date.now() */
  readonly now?: number;
  /** Leave unsettled windows out entirely (no `pending`). @default false */
  readonly settledOnly?: boolean;
  /**
   * The caller drained the pipeline (processor and Firehose, e.g. `LocalCloud.drain`): every window counts
   * as settled and any difference is drift. @default false
   */
  readonly drained?: boolean;
  /** DynamoDB client (local emulator or AWS). */
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  /** Start of the event-time range, epoch ms; widened down to each window's start. */
  readonly from: number;
  /** End of the event-time range (exclusive), epoch ms; widened up to each window's end. */
  readonly to: number;
  /** Only these rollups. @default every rollup of the config */
  readonly rollups?: readonly string[];
  /** Relative tolerance of sums, 0–1e-3. @default 1e-9 */
  readonly sumTolerance?: number;
}

/**
 * Recomputes every rollup window over the range from the archive (DuckDB locally, Athena for a stack) and compares it with
 * DynamoDB. `ok` is true when no drift was found.
 *
 * @example
 * ```ts
 * const report = await reconcile({ config, dataDir: '.shardline', client: dynamodbClient(), from, to });
 * if (!report.ok) console.table(report.drifts);
 * ```
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const { config, from, to } = options;
  const tol = options.sumTolerance ?? DEFAULT_SUM_TOLERANCE;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new UsageError(
      `from must be before to; received from=${describeValue(from)} to=${describeValue(to)}`,
    );
  }
  if (!(tol >= 0 && tol <= 1e-3))
    throw new UsageError(`sumTolerance must be between 0 and 0.001; received ${tol}`);
  const names = options.rollups ?? config.rollups.map((r) => r.name);
  const rollups = names.map((n) => findRollup(config, n));
  if (!options.archive && options.dataDir === undefined) {
    throw new UsageError('reconcile needs an archive engine or the dataDir of the local archive');
  }
  const engine = options.archive ?? (await openDuckDbArchive(options.dataDir!, config));
  const cutoff = options.drained
    ? Number.POSITIVE_INFINITY
    : settledCutoff(config, options.now ?? Date.now());
  let windowsChecked = 0;
  let bytesScanned = 0;
  const drifts: Drift[] = [];
  const pending: Drift[] = [];
  const pendingKeys = new Set<string>();
  try {
    for (const rollup of rollups) {
      for (const window of rollup.windows) {
        const w = WINDOW_MS[window];
        const lo = Math.floor(from / w) * w;
        let hi = Math.ceil(to / w) * w;
        // Settled windows end before the cutoff: [s, s + w) with s + w < cutoff.
        if (options.settledOnly) hi = Math.min(hi, Math.max(lo, Math.floor((cutoff - 1) / w) * w));
        if (lo >= hi) continue;
        const result = await engine.run(rollupSql(config, rollup, window, lo, hi));
        bytesScanned += result.bytesScanned;
        const archive = archiveRows(rollup, window, result.rows);
        const stored = await readAggregates(options.client, config, {
          rollup: rollup.name,
          window,
          from: lo,
          to: hi,
        });
        const cmp = compareAggregates(rollup.name, archive, stored, tol);
        windowsChecked += cmp.windowsChecked;
        for (const d of cmp.drifts) {
          if (Date.parse(d.windowStart) + w < cutoff) drifts.push(d);
          else {
            pending.push(d);
            pendingKeys.add(`${d.rollup}|${d.window}|${d.windowStart}|${JSON.stringify(d.dims)}`);
          }
        }
      }
    }
  } finally {
    if (!options.archive) await engine.close();
  }
  return {
    ok: drifts.length === 0,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    settledBefore: new Date(Math.min(cutoff, 8.64e15)).toISOString(),
    pending,
    windowsPending: pendingKeys.size,
    engine: engine.name,
    rollupsChecked: rollups.length,
    windowsChecked,
    drifts,
    sumTolerance: tol,
    bytesScanned,
  };
}
