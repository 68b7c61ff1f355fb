/**
 * A hand-written fast path for the common case of {@link validateEnvelope}: it accepts only envelopes it
 * can prove valid and returns `undefined` for everything else, which then goes through the zod schema
 * (the source of truth, and of the error messages). A property test checks that whatever this accepts, the
 * schema accepts with the identical result.
 */
import { LIMITS, type ShardlineEvent } from './envelope.ts';

const ID_RE = /^[A-Za-z0-9_.:-]+$/;
const NAME_RE = /^(?!__)[A-Za-z_][A-Za-z0-9_]*$/;
const ISO_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$/;
const KEYS = new Set(['v', 'eventId', 'source', 'type', 'ts', 'metrics', 'dims']);

function plainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The validated event, or `undefined` when the value needs the full schema's verdict. */
export function fastValidate(value: unknown): ShardlineEvent | undefined {
  if (!plainObject(value) || value.v !== 1) return undefined;
  let keys = 0;
  for (const k in value) {
    if (!KEYS.has(k)) return undefined;
    keys++;
  }
  const { eventId, source, type, ts, metrics, dims } = value;
  if (
    typeof eventId !== 'string' ||
    eventId.length === 0 ||
    eventId.length > LIMITS.maxEventIdLength ||
    !ID_RE.test(eventId)
  ) {
    return undefined;
  }
  if (typeof source !== 'string' || source.length === 0 || source.length > LIMITS.maxSourceLength)
    return undefined;
  if (
    typeof type !== 'string' ||
    type.length === 0 ||
    type.length > LIMITS.maxTypeLength ||
    !ID_RE.test(type)
  ) {
    return undefined;
  }
  let ms: number;
  if (typeof ts === 'string') {
    if (!ISO_UTC_RE.test(ts)) return undefined;
    ms = Date.parse(ts);
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
      if (k.length > LIMITS.maxNameLength || !NAME_RE.test(k)) return undefined;
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
      if (k.length > LIMITS.maxNameLength || !NAME_RE.test(k)) return undefined;
      n++;
    }
    if (n > LIMITS.maxDims) return undefined;
    d = dims as Record<string, string>;
  }
  void keys;
  return { v: 1, eventId, source, type, ts: ms, metrics: m, dims: d };
}
