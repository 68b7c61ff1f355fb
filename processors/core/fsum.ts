/**
 * Exact floating-point summation (Shewchuk's non-overlapping partials, as in Python's `math.fsum`).
 *
 * A sum is kept as a short array of doubles whose exact (real-number) total is the exact total of every
 * value added. Merging two sums is exact too, so the correctly rounded result never depends on batch
 * boundaries, shard merge order or retries: merge is associative and commutative on the value it denotes.
 */

/** Adds `x` into `partials` in place and returns it. */
export function addToPartials(partials: number[], x: number): number[] {
  let n = 0;
  for (let k = 0; k < partials.length; k++) {
    let y = partials[k]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[n++] = lo;
    x = hi;
  }
  // Same result as `partials.length = n; partials.push(x)`, without shrinking the array when it keeps its size.
  if (n + 1 === partials.length) partials[n] = x;
  else {
    partials.length = n;
    partials.push(x);
  }
  return partials;
}

/** Merges `b` into a copy of `a`. */
export function mergePartials(a: readonly number[], b: readonly number[]): number[] {
  const out = a.slice();
  for (const x of b) addToPartials(out, x);
  return out;
}

/** The correctly rounded value of the exact sum the partials denote (round half to even). */
export function roundPartials(partials: readonly number[]): number {
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Half-way case: make the rounding of hi + lo match the exact total's rounding.
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi === 0 ? 0 : hi;
}
