/**
 * Quantile sketches with a relative-error guarantee: DDSketch (Masson et al. 2019, @datadog/sketches-js).
 *
 * Every quantile it reports is within 1% (relative) of the true value of that rank. Merge adds bin counts:
 * associative and commutative. Bins are capped at 4,096 per sign (collapsing the lowest
 * — never reached for values within the envelope's limits), so a serialized sketch stays under ~30 KB.
 */
import { DDSketch, LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';

/** Relative accuracy of every quantile estimate. */
export const QUANTILE_RELATIVE_ACCURACY = 0.01;
/**
 * Bins per sign. Values with magnitudes in [1e-9, 1e15] (the envelope's limit) need at most
 * ln(1e24) / ln((1 + 0.01) / (1 - 0.01)) ≈ 2,763 bins, so the store never collapses: merges stay exact.
 */
const BIN_LIMIT = 4096;

export type QuantileSketch = LogCollapsingLowestDenseDDSketch;

export function emptyQuantileSketch(): QuantileSketch {
  return new LogCollapsingLowestDenseDDSketch({
    relativeAccuracy: QUANTILE_RELATIVE_ACCURACY,
    binLimit: BIN_LIMIT,
  });
}

type AnySketch = Pick<
  QuantileSketch,
  'store' | 'negativeStore' | 'zeroCount' | 'count' | 'sum' | 'min' | 'max'
>;

/**
 * Merges `src` into `target` in place. The library's own `merge` (2.1.1) forgets the negative-value store
 * when the target is not empty, so negative values would vanish in merges: we merge every part ourselves.
 */
function mergeInto(target: AnySketch, src: AnySketch): void {
  if (src.count === 0) return;
  target.store.merge(src.store);
  target.negativeStore.merge(src.negativeStore);
  target.zeroCount += src.zeroCount;
  target.count += src.count;
  target.sum += src.sum;
  if (src.min < target.min) target.min = src.min;
  if (src.max > target.max) target.max = src.max;
}

/** Merges `src` into `target` in place (`src` untouched). */
export function mergeQuantileInto(target: QuantileSketch, src: QuantileSketch): void {
  mergeInto(target, src);
}

export function mergeQuantileSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  const out = emptyQuantileSketch();
  mergeInto(out, a);
  mergeInto(out, b);
  return out;
}

/**
 * Magnitudes below this count as 0 in quantile sketches (count, sum, min and max stay exact). It bounds the
 * sketch's index range, so bins never collapse and merge stays associative.
 */
export const QUANTILE_ZERO_THRESHOLD = 1e-9;

/** Adds `x` to the sketch, in place. */
export function addQuantile(s: QuantileSketch, x: number): void {
  s.accept(Math.abs(x) < QUANTILE_ZERO_THRESHOLD ? 0 : x);
}

/** Base64 of the sketch's protobuf (the DDSketch wire format, readable by every DDSketch library). */
export function encodeQuantileSketch(s: QuantileSketch): string {
  return Buffer.from(s.toProto()).toString('base64');
}

export function decodeQuantileSketch(text: string): QuantileSketch {
  // fromProto rebuilds an unbounded sketch with a recomputed mapping; merging it into a fresh bounded
  // sketch restores both the bin cap and bit-identical quantiles.
  const out = emptyQuantileSketch();
  mergeInto(out, DDSketch.fromProto(Buffer.from(text, 'base64')));
  return out;
}

/** The value at quantile `q` in [0, 1], or null for an empty sketch. */
export function quantileOf(s: QuantileSketch, q: number): number | null {
  return s.count === 0 ? null : s.getValueAtQuantile(q);
}
