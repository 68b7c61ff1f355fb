/**
 * The reference for aggregate tests, written from the rollup spec with no code from `processors/`: which
 * events a rollup folds, its key, plain counts, exact sums (BigInt arithmetic on the doubles' exact binary
 * values, rounded once), min, max, the mean, sorted values for quantiles (a DDSketch answer must lie within
 * 1% of the exact value of its rank) and exact distinct sets (HyperLogLog: exact up to 256 values, else
 * within 4 standard errors of 1.63%).
 *
 * Rollup semantics (what `shardline.config.ts` documents): a rollup folds the events of its `eventType`
 * (`*`: all) that carry at least one of its `metrics` (any event when it has none), once per window size,
 * into the aggregate keyed `<rollup>#<window>#<dims>#<window start ISO>`, where dims are the `by` values in
 * order (a missing dim is ""), each URI-encoded unless made only of `A-Za-z0-9_.!~*'()-`, joined by `,`.
 */
import { expect } from 'vitest';
import { quantileStats, type ResolvedConfig, WINDOW_MS } from '../../common/config.ts';
import type { ShardlineEvent } from '../../common/envelope.ts';

/** A metric of an expected aggregate: exact values, or matchers for the sketch-backed quantiles. */
export type ExpectedMetric = Record<string, unknown>;

export interface ExpectedAggregate {
  count: number;
  metrics: Record<string, ExpectedMetric>;
  distinct?: Record<string, unknown>;
}

/** Relative accuracy DDSketch guarantees for every quantile. */
const QUANTILE_ACCURACY = 0.01;
/** Magnitudes below this are folded as 0 by the quantile sketch (a documented bound of its index range). */
const QUANTILE_ZERO = 1e-9;
/** Distinct values a HyperLogLog holds exactly, and its relative standard error beyond. */
const HLL_EXACT = 256;
const HLL_STANDARD_ERROR = 0.0163;

const SAFE_DIM = /^[A-Za-z0-9_.!~*'()-]*$/;
const encodeDim = (v: string) => (SAFE_DIM.test(v) ? v : encodeURIComponent(v));

function byValue(event: ShardlineEvent, key: string): string | undefined {
  if (key === 'source') return event.source;
  if (key === 'type') return event.type;
  if (key === 'eventId') return event.eventId;
  return event.dims[key.slice('dims.'.length)];
}

/** The exact sum of doubles, correctly rounded to the nearest double (ties to even). */
export function exactSum(values: readonly number[]): number {
  // Every finite double is an integer multiple of 2^-1074: sum those integers exactly.
  const SCALE = 1074n;
  let total = 0n;
  const view = new DataView(new ArrayBuffer(8));
  for (const x of values) {
    view.setFloat64(0, x);
    const bits = view.getBigUint64(0);
    const negative = bits >> 63n === 1n;
    const exponent = Number((bits >> 52n) & 0x7ffn);
    const fraction = bits & 0xfffffffffffffn;
    const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
    const shift = BigInt(Math.max(exponent, 1) - 1);
    const scaled = mantissa << shift; // x * 2^1074
    total += negative ? -scaled : scaled;
  }
  if (total === 0n) return 0;
  const negative = total < 0n;
  let m = negative ? -total : total;
  let e = -SCALE;
  const bitLength = m.toString(2).length;
  if (bitLength > 53) {
    const drop = BigInt(bitLength - 53);
    const rest = m & ((1n << drop) - 1n);
    const half = 1n << (drop - 1n);
    m >>= drop;
    if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
    e += drop;
  }
  const out = Number(m) * 2 ** Number(e);
  return negative ? -out : out;
}

function quantileMatcher(sorted: readonly number[], q: number) {
  const rank = q * (sorted.length - 1);
  const candidates = [sorted[Math.floor(rank)]!, sorted[Math.ceil(rank)]!].map((v) =>
    Math.abs(v) < QUANTILE_ZERO ? 0 : v,
  );
  return expect.toSatisfy(
    (actual: unknown) =>
      typeof actual === 'number' &&
      candidates.some((v) => Math.abs(actual - v) <= QUANTILE_ACCURACY * Math.abs(v) * (1 + 1e-9)),
    `within ${QUANTILE_ACCURACY * 100}% of the exact p${q * 100} (${candidates.join(' or ')})`,
  );
}

function distinctMatcher(exact: number) {
  if (exact <= HLL_EXACT) return exact;
  const tolerance = 4 * HLL_STANDARD_ERROR * exact;
  return expect.toSatisfy(
    (actual: unknown) => typeof actual === 'number' && Math.abs(actual - exact) <= tolerance,
    `within ${tolerance.toFixed(1)} of the exact ${exact} distinct values`,
  );
}

/**
 * The aggregates a fault-free pipeline holds after folding `inputs`, keyed by partition key: exact parts as
 * numbers, quantiles and large distinct counts as matchers of their documented accuracy.
 */
export function expectedAggregates(
  config: ResolvedConfig,
  inputs: readonly { readonly event: ShardlineEvent }[],
): Record<string, ExpectedAggregate> {
  interface Acc {
    count: number;
    values: Map<string, number[]>;
    distinct: Map<string, Set<string>>;
  }
  const out = new Map<string, { rollup: ResolvedConfig['rollups'][number]; acc: Acc }>();
  for (const { event } of inputs) {
    for (const rollup of config.rollups) {
      if (rollup.eventType !== '*' && event.type !== rollup.eventType) continue;
      if (rollup.metrics.length > 0 && !rollup.metrics.some((m) => event.metrics[m] !== undefined)) continue;
      const dims = rollup.by.map((key) => encodeDim(byValue(event, key) ?? '')).join(',');
      for (const window of rollup.windows) {
        const ms = WINDOW_MS[window];
        const start = new Date(Math.floor(event.ts / ms) * ms).toISOString();
        const pk = `${rollup.name}#${window}#${dims}#${start}`;
        let entry = out.get(pk);
        if (entry === undefined) {
          entry = { rollup, acc: { count: 0, values: new Map(), distinct: new Map() } };
          out.set(pk, entry);
        }
        const { acc } = entry;
        acc.count += 1;
        for (const m of rollup.metrics) {
          const x = event.metrics[m];
          if (x === undefined) continue;
          const list = acc.values.get(m) ?? [];
          list.push(x === 0 ? 0 : x); // -0 and 0 are one measurement
          acc.values.set(m, list);
        }
        for (const stat of rollup.stats) {
          if (!stat.startsWith('distinct:')) continue;
          const field = stat.slice('distinct:'.length);
          const v = byValue(event, field);
          if (v === undefined) continue; // a missing dim is not a value
          const set = acc.distinct.get(field) ?? new Set();
          set.add(v);
          acc.distinct.set(field, set);
        }
      }
    }
  }
  const result: Record<string, ExpectedAggregate> = {};
  for (const [pk, { rollup, acc }] of [...out].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const metrics: Record<string, ExpectedMetric> = {};
    for (const [name, values] of acc.values) {
      const sum = exactSum(values);
      const sorted = [...values].sort((a, b) => a - b);
      const metric: ExpectedMetric = {
        count: values.length,
        sum,
        min: sorted[0],
        max: sorted[sorted.length - 1],
        avg: sum / values.length,
      };
      for (const [label, q] of quantileStats(rollup.stats)) metric[label] = quantileMatcher(sorted, q);
      metrics[name] = metric;
    }
    const aggregate: ExpectedAggregate = { count: acc.count, metrics };
    if (acc.distinct.size > 0) {
      aggregate.distinct = Object.fromEntries(
        [...acc.distinct].map(([field, set]) => [field, distinctMatcher(set.size)]),
      );
    }
    result[pk] = aggregate;
  }
  return result;
}
