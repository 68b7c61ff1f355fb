import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addToPartials, mergePartials, roundPartials } from '../../../../processors/core/fsum.ts';

const sumOf = (xs: number[]) => roundPartials(xs.reduce((p, x) => addToPartials(p, x), [] as number[]));

describe('fsum', () => {
  it('is exact where naive summation is not', () => {
    // GIVEN values whose naive sum loses the small ones
    const xs = [1e15, 0.1, -1e15, 0.2, 1e-3];
    // THEN the correctly rounded exact sum is returned
    expect(sumOf(xs)).toBe(0.301);
    expect(xs.reduce((a, b) => a + b, 0)).not.toBe(0.301);
  });

  it('returns 0 for no values and handles cancellation to zero', () => {
    expect(sumOf([])).toBe(0);
    expect(sumOf([5, -5])).toBe(0);
  });

  it('gives the same result for every order and grouping (property)', () => {
    const value = fc.double({ min: -1e15, max: 1e15, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), fc.nat(60), (xs, cut) => {
        const k = Math.min(cut, xs.length);
        const whole = sumOf(xs);
        const reversed = sumOf([...xs].reverse());
        const a = xs.slice(0, k).reduce((p, x) => addToPartials(p, x), [] as number[]);
        const b = xs.slice(k).reduce((p, x) => addToPartials(p, x), [] as number[]);
        expect(reversed).toBe(whole);
        expect(roundPartials(mergePartials(a, b))).toBe(whole);
        expect(roundPartials(mergePartials(b, a))).toBe(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('matches exact rational arithmetic on integers and halves (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 100 }), (ints) => {
        const xs = ints.map((i) => i / 2);
        const exact = ints.reduce((a, b) => a + b, 0) / 2;
        expect(sumOf(xs)).toBe(exact);
      }),
    );
  });
});
