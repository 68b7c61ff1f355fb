/**
 * Aggregate state: a mergeable value (commutative monoid) per rollup item.
 *
 * `count` counts events; per metric we keep how many events carried it, its exact sum (as fsum partials),
 * min and max. {@link mergeStates} is associative and commutative and {@link emptyState} is its identity,
 * so batch boundaries and shard merge order cannot change any result.
 */
import { addToPartials, mergePartials, roundPartials } from './fsum.ts';

export interface MetricState {
  /** Events that carried this metric. */
  count: number;
  /** Exact sum as non-overlapping partials; read it with {@link roundPartials}. */
  sum: number[];
  min: number;
  max: number;
}

export interface AggState {
  /** Events folded into this state. */
  count: number;
  metrics: Record<string, MetricState>;
}

/** Plain numbers for readers: what the dashboard, the CLI and reconcile compare. */
export interface FinalMetric {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  avg: number | null;
}
export interface FinalState {
  count: number;
  metrics: Record<string, FinalMetric>;
}

export function emptyState(): AggState {
  return { count: 0, metrics: {} };
}

/** Folds one event's values (already selected by the rollup) into `state`, in place. */
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

/** The merge of two states (a new object; inputs untouched). */
export function mergeStates(a: AggState, b: AggState): AggState {
  const metrics: Record<string, MetricState> = {};
  for (const [name, m] of Object.entries(a.metrics)) metrics[name] = { ...m, sum: m.sum.slice() };
  for (const [name, m] of Object.entries(b.metrics)) {
    const cur = metrics[name];
    if (cur === undefined) metrics[name] = { ...m, sum: m.sum.slice() };
    else {
      cur.count += m.count;
      cur.sum = mergePartials(cur.sum, m.sum);
      cur.min = Math.min(cur.min, m.min);
      cur.max = Math.max(cur.max, m.max);
    }
  }
  return { count: a.count + b.count, metrics };
}

export function finalizeState(state: AggState): FinalState {
  const metrics: Record<string, FinalMetric> = {};
  for (const name of Object.keys(state.metrics).sort()) {
    const m = state.metrics[name]!;
    const sum = roundPartials(m.sum);
    metrics[name] = { count: m.count, sum, min: m.min, max: m.max, avg: m.count > 0 ? sum / m.count : null };
  }
  return { count: state.count, metrics };
}

/** Compact, exact JSON encoding for storage (JSON numbers round-trip every finite double). */
export function encodeState(state: AggState): string {
  return JSON.stringify(state);
}

export function decodeState(text: string): AggState {
  const raw = JSON.parse(text) as AggState;
  if (
    typeof raw !== 'object' ||
    raw === null ||
    typeof raw.count !== 'number' ||
    typeof raw.metrics !== 'object'
  ) {
    throw new TypeError(`not an aggregate state: ${text.slice(0, 80)}`);
  }
  return raw;
}
