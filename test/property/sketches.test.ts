/**
 * Sketch invariants: merge is associative and commutative, merging per-shard sketches equals the sketch of
 * the union, estimates stay within their declared bounds, and the serialized size is bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addToHll,
  decodeHll,
  EXACT_LIMIT,
  emptyHll,
  encodeHll,
  estimateHll,
  HLL_STANDARD_ERROR,
  type Hll,
  mergeHll,
} from '../../processors/core/sketch/hll.ts';
import {
  addQuantile,
  decodeQuantileSketch,
  emptyQuantileSketch,
  encodeQuantileSketch,
  mergeQuantileSketches,
  QUANTILE_RELATIVE_ACCURACY,
  type QuantileSketch,
  quantileOf,
} from '../../processors/core/sketch/quantiles.ts';

const QS = [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1];
const value = fc.oneof(
  fc.double({ min: -1e15, max: 1e15, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 5e-324, -1.1e-308, 1e-9, -1e15),
);

const qsketch = (xs: readonly number[]) => {
  const s = emptyQuantileSketch();
  for (const x of xs) addQuantile(s, x);
  return s;
};
const qview = (s: QuantileSketch) => ({ count: s.count, qs: QS.map((q) => quantileOf(s, q)) });
const hll = (xs: readonly string[]) => xs.reduce<Hll>((h, x) => addToHll(h, x), emptyHll());

describe('quantile sketches (DDSketch)', () => {
  it('merge is associative and commutative, and equals the sketch of the union', () => {
    fc.assert(
      fc.property(fc.array(value), fc.array(value), fc.array(value), (a, b, c) => {
        const [sa, sb, sc] = [qsketch(a), qsketch(b), qsketch(c)];
        const left = mergeQuantileSketches(mergeQuantileSketches(sa, sb), sc);
        const right = mergeQuantileSketches(sa, mergeQuantileSketches(sb, sc));
        expect(qview(left)).toEqual(qview(right));
        expect(qview(mergeQuantileSketches(sa, sb))).toEqual(qview(mergeQuantileSketches(sb, sa)));
        expect(qview(left)).toEqual(qview(qsketch([...a, ...b, ...c])));
      }),
      { numRuns: 150 },
    );
  });

  it('survives a storage round trip bit for bit', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), (xs) => {
        const s = qsketch(xs);
        expect(qview(decodeQuantileSketch(encodeQuantileSketch(s)))).toEqual(qview(s));
      }),
    );
  });

  it('estimates every quantile within the declared relative accuracy', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 400 }),
        (xs) => {
          const s = qsketch(xs);
          const sorted = [...xs].sort((x, y) => x - y);
          for (const q of QS) {
            const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
            const est = quantileOf(s, q)!;
            expect(Math.abs(est - exact)).toBeLessThanOrEqual(QUANTILE_RELATIVE_ACCURACY * exact * 1.000001);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stays small whatever the data', () => {
    const s = emptyQuantileSketch();
    for (let i = 0; i < 50_000; i++) addQuantile(s, (i % 2 ? 1 : -1) * 10 ** ((i % 2_400) / 100 - 9));
    expect(encodeQuantileSketch(s).length).toBeLessThan(64_000);
  });
});

describe('distinct counts (HyperLogLog)', () => {
  const word = fc.string({ maxLength: 8 });
  const canon = (h: Hll) => encodeHll(h);

  it('merge is associative, commutative and equals the sketch of the union', () => {
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 300 }),
        fc.array(word, { maxLength: 300 }),
        fc.array(word, { maxLength: 300 }),
        (a, b, c) => {
          const [ha, hb, hc] = [hll(a), hll(b), hll(c)];
          const left = mergeHll(mergeHll(ha, hb), hc);
          expect(canon(left)).toEqual(canon(mergeHll(ha, mergeHll(hb, hc))));
          expect(canon(mergeHll(ha, hb))).toEqual(canon(mergeHll(hb, ha)));
          expect(canon(left)).toEqual(canon(hll([...a, ...b, ...c])));
          expect(canon(decodeHll(canon(left)))).toEqual(canon(left));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is exact up to the exact limit and within 4 standard errors beyond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.string({ maxLength: 4 }), (n, salt) => {
        const values = Array.from({ length: n }, (_, i) => `${salt}:${i}`);
        const est = estimateHll(hll(values));
        if (n <= EXACT_LIMIT) expect(est).toBe(n);
        else expect(Math.abs(est - n) / n).toBeLessThan(4 * HLL_STANDARD_ERROR);
      }),
      { numRuns: 40 },
    );
  });

  it('never serializes to more than 5.5 KB', () => {
    expect(encodeHll(hll(Array.from({ length: 100_000 }, (_, i) => String(i)))).length).toBeLessThanOrEqual(
      5_466,
    );
  });
});
