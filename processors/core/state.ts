/**
 * Aggregate state: a mergeable value (commutative monoid) per rollup item.
 *
 * `count` counts events; per metric we keep how many events carried it, its exact sum (as fsum partials),
 * min and max. Rollups that declare quantile stats (`p50`, `p99.9`, ...) also keep a DDSketch per metric
 * (`q`, 1% relative accuracy), and rollups that declare `distinct:<field>` keep a HyperLogLog per field
 * (`distinct`, exact below 256 values, else 1.63% standard error). Sketch parts exist only when declared,
 * so rollups without them pay nothing.
 *
 * {@link mergeStates} is associative and commutative and {@link emptyState} is its identity, so batch
 * boundaries and shard merge order cannot change any result: exact parts are exact, DDSketch bins add
 * (quantiles equal bit for bit whatever the merge order) and HLL merges are unions / register maxima.
 */
import { quantileStats, type Stat } from '../../common/config.ts';
import { addToPartials, mergePartials, roundPartials } from './fsum.ts';
import { addToHll, decodeHll, emptyHll, encodeHll, estimateHll, type Hll, mergeHll } from './sketch/hll.ts';
import {
  addQuantile,
  decodeQuantileSketch,
  emptyQuantileSketch,
  encodeQuantileSketch,
  mergeQuantileInto,
  mergeQuantileSketches,
  type QuantileSketch,
  quantileOf,
} from './sketch/quantiles.ts';

export interface MetricState {
  /** Events that carried this metric. */
  count: number;
  /** Exact sum as non-overlapping partials; read it with {@link roundPartials}. */
  sum: number[];
  min: number;
  max: number;
  /** Quantile sketch of the values; only in rollups that declare a quantile stat. */
  q?: QuantileSketch;
}

export interface AggState {
  /** Events folded into this state. */
  count: number;
  metrics: Record<string, MetricState>;
  /** Distinct-count sketch per field (`source`, `dims.page`, ...); only for declared `distinct:` stats. */
  distinct?: Record<string, Hll>;
}

/** Plain numbers for readers: what the dashboard, the CLI and reconcile compare. */
export interface FinalMetric {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  /** Requested quantiles by stat name (`p99`: within 1% of the exact value); null without a sketch. */
  [quantile: `p${string}`]: number | null;
}
export interface FinalState {
  count: number;
  metrics: Record<string, FinalMetric>;
  /** Estimated distinct values per field; present only when the state has distinct sketches. */
  distinct?: Record<string, number>;
}

export function emptyState(): AggState {
  return { count: 0, metrics: {} };
}

/** Folds one event's values (already selected by the rollup) into `state`, in place. Exact parts only. */
export function addValues(
  state: AggState,
  metricNames: readonly string[],
  metrics: Readonly<Record<string, number>>,
): void {
  state.count += 1;
  for (const name of metricNames) {
    let x = metrics[name];
    if (x === undefined) continue;
    // -0 and 0 are the same measurement; storing JSON turns -0 into 0, so fold it as 0 from the start.
    if (x === 0) x = 0;
    const m = state.metrics[name];
    if (m === undefined) {
      state.metrics[name] = { count: 1, sum: [x], min: x, max: x };
    } else {
      m.count += 1;
      addToPartials(m.sum, x);
      if (x < m.min) m.min = x;
      if (x > m.max) m.max = x;
    }
  }
}

/**
 * Adds one event's metric values to the quantile sketches, in place. Call after {@link addValues} for the
 * same event (it creates the metric entries); only for rollups that declare a quantile stat.
 */
export function addQuantileValues(
  state: AggState,
  metricNames: readonly string[],
  metrics: Readonly<Record<string, number>>,
): void {
  for (const name of metricNames) {
    const x = metrics[name];
    if (x === undefined) continue;
    const m = state.metrics[name];
    if (m === undefined) continue;
    if (m.q === undefined) m.q = emptyQuantileSketch();
    addQuantile(m.q, x);
  }
}

/** Adds one value of `field` to its distinct-count sketch, in place (the event itself counts via addValues). */
export function addDistinctValue(state: AggState, field: string, value: string): void {
  if (state.distinct === undefined) state.distinct = {};
  const cur = state.distinct[field];
  state.distinct[field] = addToHll(cur ?? emptyHll(), value);
}

function cloneHll(h: Hll): Hll {
  return 'exact' in h ? { exact: new Set(h.exact) } : { registers: h.registers.slice() };
}

function copyMetric(m: MetricState): MetricState {
  const out: MetricState = { count: m.count, sum: m.sum.slice(), min: m.min, max: m.max };
  if (m.q !== undefined) out.q = mergeQuantileSketches(m.q, emptyQuantileSketch());
  return out;
}

/** The merge of two states (a new object sharing nothing with the inputs; inputs untouched). */
export function mergeStates(a: AggState, b: AggState): AggState {
  const out = emptyState();
  mergeStateInto(out, a);
  mergeStateInto(out, b);
  return out;
}

/**
 * Merges `src` into `target` in place (`src` untouched, nothing shared with it afterwards). The fold builds
 * coarse windows from fine ones with it; {@link mergeStates} is it applied to a fresh state.
 */
export function mergeStateInto(target: AggState, src: AggState): void {
  target.count += src.count;
  for (const name in src.metrics) {
    const m = src.metrics[name]!;
    const cur = target.metrics[name];
    if (cur === undefined) {
      target.metrics[name] = copyMetric(m);
      continue;
    }
    cur.count += m.count;
    cur.sum = mergePartials(cur.sum, m.sum);
    if (m.min < cur.min) cur.min = m.min;
    if (m.max > cur.max) cur.max = m.max;
    if (m.q !== undefined) {
      if (cur.q === undefined) cur.q = emptyQuantileSketch();
      mergeQuantileInto(cur.q, m.q);
    }
  }
  if (src.distinct !== undefined) {
    if (target.distinct === undefined) target.distinct = {};
    for (const f in src.distinct) {
      const h = src.distinct[f]!;
      const cur = target.distinct[f];
      target.distinct[f] = cur === undefined ? cloneHll(h) : mergeHll(cur, h);
    }
  }
}

/**
 * Plain numbers for readers. `stats` (the rollup's) selects the quantiles reported per metric; without it
 * no quantile is reported. Distinct estimates are reported for every sketch the state holds.
 */
export function finalizeState(state: AggState, stats: readonly Stat[] = []): FinalState {
  const quantiles = quantileStats(stats);
  const metrics: Record<string, FinalMetric> = {};
  for (const name of Object.keys(state.metrics).sort()) {
    const m = state.metrics[name]!;
    const sum = roundPartials(m.sum);
    const f: FinalMetric = {
      count: m.count,
      sum,
      min: m.min,
      max: m.max,
      avg: m.count > 0 ? sum / m.count : null,
    };
    for (const [label, q] of quantiles) f[label] = m.q === undefined ? null : quantileOf(m.q, q);
    metrics[name] = f;
  }
  const out: FinalState = { count: state.count, metrics };
  if (state.distinct !== undefined) {
    const distinct: Record<string, number> = {};
    for (const f of Object.keys(state.distinct).sort()) distinct[f] = estimateHll(state.distinct[f]!);
    out.distinct = distinct;
  }
  return out;
}

/** The JSON shape of a stored state: sketches as strings (base64 DDSketch protobuf, encoded HLL). */
interface StoredMetric {
  count: number;
  sum: number[];
  min: number;
  max: number;
  q?: string;
}
interface StoredState {
  count: number;
  metrics: Record<string, StoredMetric>;
  distinct?: Record<string, string>;
}

/**
 * Compact, exact JSON encoding for storage (JSON numbers round-trip every finite double). Sketches are
 * embedded in their binary wire formats as base64: a quantile sketch in at most ~60 KB, an HLL in at most
 * ~5.5 KB (see `MAX_QUANTILE_METRICS` and `MAX_DISTINCT_FIELDS` in common/config.ts for the item budget).
 * A state without sketches encodes exactly as before sketches existed.
 */
export function encodeState(state: AggState): string {
  let sketched = state.distinct !== undefined;
  if (!sketched) for (const name in state.metrics) if (state.metrics[name]!.q !== undefined) sketched = true;
  if (!sketched) return JSON.stringify(state);
  const metrics: Record<string, StoredMetric> = {};
  for (const [name, m] of Object.entries(state.metrics)) {
    const s: StoredMetric = { count: m.count, sum: m.sum, min: m.min, max: m.max };
    if (m.q !== undefined) s.q = encodeQuantileSketch(m.q);
    metrics[name] = s;
  }
  const out: StoredState = { count: state.count, metrics };
  if (state.distinct !== undefined) {
    out.distinct = {};
    for (const [f, h] of Object.entries(state.distinct)) out.distinct[f] = encodeHll(h);
  }
  return JSON.stringify(out);
}

export function decodeState(text: string): AggState {
  const raw = JSON.parse(text) as StoredState;
  if (
    typeof raw !== 'object' ||
    raw === null ||
    typeof raw.count !== 'number' ||
    typeof raw.metrics !== 'object' ||
    raw.metrics === null ||
    (raw.distinct !== undefined && (typeof raw.distinct !== 'object' || raw.distinct === null))
  ) {
    throw new TypeError(`not an aggregate state: ${text.slice(0, 80)}`);
  }
  const metrics: Record<string, MetricState> = {};
  for (const [name, m] of Object.entries(raw.metrics)) {
    const out: MetricState = { count: m.count, sum: m.sum, min: m.min, max: m.max };
    if (typeof m.q === 'string') out.q = decodeQuantileSketch(m.q);
    metrics[name] = out;
  }
  const state: AggState = { count: raw.count, metrics };
  if (raw.distinct !== undefined) {
    state.distinct = {};
    for (const [f, h] of Object.entries(raw.distinct)) {
      if (typeof h !== 'string') throw new TypeError(`not an aggregate state: distinct.${f} is not a string`);
      state.distinct[f] = decodeHll(h);
    }
  }
  return state;
}
