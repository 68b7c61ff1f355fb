/**
 * Building and checking v1 envelopes in the browser, without zod (the bundle stays small). The limits come
 * from `common/limits.ts`, the module the envelope schema and the ingest endpoint read them from; the
 * endpoint validates again with the real schema.
 */
import { describeValue } from '../../common/errors.ts';
import { LIMITS, WEB_MAX_SOURCE_LENGTH } from '../../common/limits.ts';
import { TrackerError } from './errors.ts';

/**
 * The envelope limits the browser checks: the envelope's own, except `source`, which the ingest endpoint
 * prefixes with `web:` and so accepts 4 characters shorter (124).
 */
export const WEB_LIMITS = {
  maxEventBytes: LIMITS.maxEventBytes,
  maxSourceLength: WEB_MAX_SOURCE_LENGTH,
  maxTypeLength: LIMITS.maxTypeLength,
  maxMetrics: LIMITS.maxMetrics,
  maxDims: LIMITS.maxDims,
  maxNameLength: LIMITS.maxNameLength,
  maxDimValueLength: LIMITS.maxDimValueLength,
  maxAbsMetric: LIMITS.maxAbsMetric,
} as const;

const ID_RE = /^[A-Za-z0-9_.:-]+$/;
const NAME_RE = /^(?!__)[A-Za-z_][A-Za-z0-9_]*$/;

/** What `track()` takes besides the type. */
export interface TrackFields {
  /** Numeric measurements, ≤ 32, names `[A-Za-z_][A-Za-z0-9_]*`, finite with |x| ≤ 1e15. @default {} */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Short string dimensions, ≤ 16, values ≤ 128 characters. @default {} */
  readonly dims?: Readonly<Record<string, string>>;
}

/** The envelope the SDK posts. */
export interface WebEnvelope {
  readonly v: 1;
  readonly eventId: string;
  readonly source: string;
  readonly type: string;
  readonly ts: string;
  readonly metrics: Record<string, number>;
  readonly dims: Record<string, string>;
}

function checkNames(kind: string, obj: object, max: number): void {
  const keys = Object.keys(obj);
  if (keys.length > max)
    throw new TrackerError(`${kind} must have at most ${max} entries; received ${keys.length}`);
  for (const k of keys) {
    if (k.length > WEB_LIMITS.maxNameLength || !NAME_RE.test(k)) {
      throw new TrackerError(
        `${kind} names must match [A-Za-z_][A-Za-z0-9_]* (1–${WEB_LIMITS.maxNameLength} chars, not starting with __); received ${describeValue(k)}`,
      );
    }
  }
}

/** Builds and checks an envelope; throws {@link TrackerError} naming the field and the value received. */
export function buildEnvelope(
  type: string,
  fields: TrackFields,
  context: { eventId: string; source: string; nowMs: number },
): WebEnvelope {
  if (
    typeof type !== 'string' ||
    type.length < 1 ||
    type.length > WEB_LIMITS.maxTypeLength ||
    !ID_RE.test(type)
  ) {
    throw new TrackerError(
      `type must be 1–${WEB_LIMITS.maxTypeLength} characters of [A-Za-z0-9_.:-]; received ${describeValue(type)}`,
    );
  }
  const metrics = { ...(fields.metrics ?? {}) };
  const dims = { ...(fields.dims ?? {}) };
  checkNames('metrics', metrics, WEB_LIMITS.maxMetrics);
  checkNames('dims', dims, WEB_LIMITS.maxDims);
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > WEB_LIMITS.maxAbsMetric) {
      throw new TrackerError(
        `metrics.${k} must be a finite number with |x| ≤ ${WEB_LIMITS.maxAbsMetric}; received ${describeValue(v)}`,
      );
    }
  }
  for (const [k, v] of Object.entries(dims)) {
    if (typeof v !== 'string' || v.length > WEB_LIMITS.maxDimValueLength) {
      throw new TrackerError(
        `dims.${k} must be a string of at most ${WEB_LIMITS.maxDimValueLength} characters; received ${describeValue(v)}`,
      );
    }
  }
  const envelope: WebEnvelope = {
    v: 1,
    eventId: context.eventId,
    source: context.source,
    type,
    ts: new Date(context.nowMs).toISOString(),
    metrics,
    dims,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(envelope)).byteLength;
  if (bytes > WEB_LIMITS.maxEventBytes) {
    throw new TrackerError(
      `the event must encode to at most ${WEB_LIMITS.maxEventBytes} bytes; received ${bytes}`,
    );
  }
  return envelope;
}

/** A random UUID: `crypto.randomUUID` where available (secure contexts), else v4 from `getRandomValues`. */
export function randomId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
