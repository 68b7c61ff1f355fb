/**
 * HyperLogLog distinct counts (Flajolet et al. 2007, with linear counting for small cardinalities).
 *
 * Up to {@link EXACT_LIMIT} distinct values the sketch is an exact set of 53-bit hashes (exact but for hash
 * collisions, about 1 in 10^12 at that size); beyond, precision p = 12: 4,096 one-byte registers, a standard
 * error of 1.04 / sqrt(4096) ≈ 1.63%. Merge is set union, or the register-wise maximum: associative,
 * commutative and idempotent, and the result depends only on the union of the values seen, so replays,
 * batch boundaries and shard merge order cannot change an estimate. Stored as at most 4,097 bytes before
 * base64, well inside DynamoDB's 400 KB item limit.
 */

export const HLL_PRECISION = 12;
const M = 1 << HLL_PRECISION;
/** The documented standard error of an estimate. */
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(M);
const ALPHA = 0.7213 / (1 + 1.079 / M);

/** Distinct values kept exactly before switching to registers. */
export const EXACT_LIMIT = 256;

export type Hll = { exact: Set<number> } | { registers: Uint8Array };

export function emptyHll(): Hll {
  return { exact: new Set() };
}

function toRegisters(hashes: Iterable<number>, into: Uint8Array = new Uint8Array(M)): Uint8Array {
  for (const h of hashes) {
    const index = h % M; // low 12 bits
    let rest = Math.floor(h / M); // the other 41 bits
    let rank = 1;
    while ((rest & 1) === 0 && rank <= 41) {
      rank++;
      rest = Math.floor(rest / 2);
    }
    if (rank > into[index]!) into[index] = rank;
  }
  return into;
}

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain, by bryc). */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Adds a value (by its string form) to the sketch, in place; returns the sketch (it may change form). */
export function addToHll(hll: Hll, value: string): Hll {
  const h = hash53(value);
  if ('exact' in hll) {
    hll.exact.add(h);
    if (hll.exact.size <= EXACT_LIMIT) return hll;
    return { registers: toRegisters(hll.exact) };
  }
  toRegisters([h], hll.registers);
  return hll;
}

export function mergeHll(a: Hll, b: Hll): Hll {
  if ('exact' in a && 'exact' in b) {
    const union = new Set(a.exact);
    for (const h of b.exact) union.add(h);
    return union.size <= EXACT_LIMIT ? { exact: union } : { registers: toRegisters(union) };
  }
  const out = new Uint8Array(M);
  for (const x of [a, b]) {
    if ('exact' in x) toRegisters(x.exact, out);
    else for (let i = 0; i < M; i++) if (x.registers[i]! > out[i]!) out[i] = x.registers[i]!;
  }
  return { registers: out };
}

/** Estimated number of distinct values (exact below {@link EXACT_LIMIT}). */
export function estimateHll(hll: Hll): number {
  if ('exact' in hll) return hll.exact.size;
  const regs = hll.registers;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < M; i++) {
    sum += 2 ** -regs[i]!;
    if (regs[i] === 0) zeros++;
  }
  const raw = (ALPHA * M * M) / sum;
  if (raw <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
  return Math.round(raw);
}

/** `E<base64 of sorted u64 hashes>` while exact, `S<(u16 index, u8 rank)*>` while sparse, `D<registers>`. */
export function encodeHll(hll: Hll): string {
  if ('exact' in hll) {
    const sorted = [...hll.exact].sort((x, y) => x - y);
    const buf = Buffer.alloc(sorted.length * 8);
    for (const [i, h] of sorted.entries()) buf.writeBigUInt64BE(BigInt(h), i * 8);
    return `E${buf.toString('base64')}`;
  }
  const regs = hll.registers;
  let set = 0;
  for (let i = 0; i < M; i++) if (regs[i] !== 0) set++;
  if (set * 3 < M) {
    const buf = Buffer.alloc(set * 3);
    let o = 0;
    for (let i = 0; i < M; i++) {
      if (regs[i] === 0) continue;
      buf.writeUInt16BE(i, o);
      buf[o + 2] = regs[i]!;
      o += 3;
    }
    return `S${buf.toString('base64')}`;
  }
  return `D${Buffer.from(regs).toString('base64')}`;
}

export function decodeHll(text: string): Hll {
  const body = Buffer.from(text.slice(1), 'base64');
  if (text[0] === 'E' && body.length % 8 === 0) {
    const exact = new Set<number>();
    for (let o = 0; o < body.length; o += 8) exact.add(Number(body.readBigUInt64BE(o)));
    return { exact };
  }
  if (text[0] === 'D' && body.length === M) return { registers: new Uint8Array(body) };
  if (text[0] === 'S' && body.length % 3 === 0) {
    const registers = new Uint8Array(M);
    for (let o = 0; o < body.length; o += 3) registers[body.readUInt16BE(o)] = body[o + 2]!;
    return { registers };
  }
  throw new TypeError(`not an encoded HyperLogLog: ${text.slice(0, 20)}...`);
}
