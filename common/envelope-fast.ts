/**
 * A hand-written fast path for the common case of {@link validateEnvelope}: it accepts only envelopes it
 * can prove valid and returns `undefined` for everything else, which then goes through the zod schema
 * (the source of truth, and of the error messages). A property test checks that whatever this accepts, the
 * schema accepts with the identical result.
 *
 * Hot path (every record of every batch): no regular expressions on per-event values (character loops
 * instead), names and types already seen are remembered, and ISO timestamps are parsed by position, falling
 * back to `Date.parse` for anything outside the plainly valid ranges.
 */
import { LIMITS, type ShardlineEvent } from './envelope.ts';

const KEYS = new Set(['v', 'eventId', 'source', 'type', 'ts', 'metrics', 'dims']);

/** Names (metric, dim) and types proven valid; bounded so hostile input cannot grow it without limit. */
const KNOWN_NAMES = new Set<string>();
const KNOWN_TYPES = new Set<string>();
const KNOWN_MAX = 4096;

function remember(set: Set<string>, s: string): void {
  if (set.size >= KNOWN_MAX) set.clear();
  set.add(s);
}

function plainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `[A-Za-z0-9_.:-]+` */
function isId(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (
      !(
        (c >= 97 && c <= 122) || // a-z
        (c >= 65 && c <= 90) || // A-Z
        (c >= 48 && c <= 58) || // 0-9 and ':'
        c === 95 || // _
        c === 46 || // .
        c === 45 // -
      )
    ) {
      return false;
    }
  }
  return true;
}

/** `(?!__)[A-Za-z_][A-Za-z0-9_]*`, 1–maxNameLength characters. */
function isName(s: string): boolean {
  if (KNOWN_NAMES.has(s)) return true;
  const n = s.length;
  if (n === 0 || n > LIMITS.maxNameLength) return false;
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90) || c0 === 95)) return false;
  if (c0 === 95 && n > 1 && s.charCodeAt(1) === 95) return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  remember(KNOWN_NAMES, s);
  return true;
}

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = digit(s, i + k);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$` parsed to epoch ms exactly as `Date.parse`
 * does; `undefined` when the string does not have that shape.
 */
export function parseIsoUtc(s: string): number | undefined {
  const len = s.length;
  if (len < 20 || len > 35) return undefined;
  if (
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  ) {
    return undefined;
  }
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return undefined;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    const from = i;
    while (i < len && digit(s, i) >= 0) {
      if (i - from < 3) ms = ms * 10 + digit(s, i);
      i++;
    }
    const n = i - from;
    if (n < 1 || n > 9) return undefined;
    if (n === 1) ms *= 100;
    else if (n === 2) ms *= 10;
  }
  const rest = len - i;
  if (rest === 1) {
    if (s.charCodeAt(i) !== 90) return undefined;
  } else if (rest !== 6 || s.slice(i) !== '+00:00') return undefined;
  if (
    year >= 1970 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 31 &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  ) {
    return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  }
  return Date.parse(s);
}

/** The validated event, or `undefined` when the value needs the full schema's verdict. */
export function fastValidate(value: unknown): ShardlineEvent | undefined {
  return check(value, false);
}

/**
 * {@link fastValidate} for a value the caller owns (just parsed, referenced nowhere else): when valid, the
 * value itself becomes the event (`ts` set to epoch ms, missing `metrics`/`dims` set to `{}`) instead of
 * being copied, one object less per record on the hot path. When `undefined` is returned the value is
 * untouched, so the full schema can judge it.
 */
export function fastValidateOwned(value: unknown): ShardlineEvent | undefined {
  return check(value, true);
}

function check(value: unknown, reuse: boolean): ShardlineEvent | undefined {
  if (!plainObject(value) || value.v !== 1) return undefined;
  for (const k in value) if (!KEYS.has(k)) return undefined;
  const { eventId, source, type, ts, metrics, dims } = value;
  if (typeof eventId !== 'string' || eventId.length > LIMITS.maxEventIdLength || !isId(eventId)) {
    return undefined;
  }
  if (typeof source !== 'string' || source.length === 0 || source.length > LIMITS.maxSourceLength)
    return undefined;
  if (typeof type !== 'string') return undefined;
  if (!KNOWN_TYPES.has(type)) {
    if (type.length > LIMITS.maxTypeLength || !isId(type)) return undefined;
    remember(KNOWN_TYPES, type);
  }
  let ms: number;
  if (typeof ts === 'string') {
    const parsed = parseIsoUtc(ts);
    if (parsed === undefined) return undefined;
    ms = parsed;
  } else if (typeof ts === 'number' && Number.isInteger(ts)) ms = ts;
  else return undefined;
  if (!(ms >= LIMITS.minTsMs && ms <= LIMITS.maxTsMs - 1)) return undefined;
  let m: Record<string, number> = {};
  if (metrics !== undefined) {
    if (!plainObject(metrics)) return undefined;
    let n = 0;
    for (const k in metrics) {
      const x = metrics[k];
      if (typeof x !== 'number' || !(x >= -LIMITS.maxAbsMetric && x <= LIMITS.maxAbsMetric)) return undefined;
      if (!isName(k)) return undefined;
      n++;
    }
    if (n > LIMITS.maxMetrics) return undefined;
    m = metrics as Record<string, number>;
  }
  let d: Record<string, string> = {};
  if (dims !== undefined) {
    if (!plainObject(dims)) return undefined;
    let n = 0;
    for (const k in dims) {
      const x = dims[k];
      if (typeof x !== 'string' || x.length > LIMITS.maxDimValueLength) return undefined;
      if (!isName(k)) return undefined;
      n++;
    }
    if (n > LIMITS.maxDims) return undefined;
    d = dims as Record<string, string>;
  }
  if (!reuse) return { v: 1, eventId, source, type, ts: ms, metrics: m, dims: d };
  value.ts = ms;
  if (metrics === undefined) value.metrics = m;
  if (dims === undefined) value.dims = d;
  return value as unknown as ShardlineEvent;
}
