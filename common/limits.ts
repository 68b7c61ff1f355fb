/**
 * The envelope's limits and the public ingest endpoint's source namespace, as plain constants with no
 * imports: the zod schema (`common/envelope.ts`), the ingest endpoint (`producers/ingest/body.ts`) and the
 * browser SDK (`producers/web`, which must not bundle zod) all read them from here.
 */

/** Explicit limits of the envelope. Each is documented in the README's "Event envelope" section. */
export const LIMITS = {
  /** Largest encoded event, in bytes of UTF-8 JSON. Kinesis allows 1 MiB per record; events are small. */
  maxEventBytes: 32 * 1024,
  /** `eventId`: 1–64 characters of `[A-Za-z0-9_.:-]` (a ULID or UUID fits). */
  maxEventIdLength: 64,
  /** `source`: 1–128 characters (it is the default partition key, which Kinesis caps at 256). */
  maxSourceLength: 128,
  /** `type`: 1–64 characters of `[A-Za-z0-9_.:-]`. */
  maxTypeLength: 64,
  /** At most this many entries in `metrics`. */
  maxMetrics: 32,
  /** At most this many entries in `dims`. */
  maxDims: 16,
  /** Metric and dimension names: 1–64 characters, `[A-Za-z_][A-Za-z0-9_]*`, not starting with `__` (safe as SQL map keys and JS properties). */
  maxNameLength: 64,
  /** Dimension values: 0–128 characters. */
  maxDimValueLength: 128,
  /** Metric values are finite with an absolute value of at most 1e15. */
  maxAbsMetric: 1e15,
  /** Epoch-millisecond timestamps must lie in [2000-01-01, 2100-01-01). */
  minTsMs: Date.UTC(2000, 0, 1),
  maxTsMs: Date.UTC(2100, 0, 1),
} as const;

/** Namespace of the `source` of every event that came through the public ingest endpoint. */
export const WEB_SOURCE_PREFIX = 'web:';

/**
 * Longest `source` a client of the public ingest endpoint may send: the endpoint prefixes it with
 * {@link WEB_SOURCE_PREFIX}, and the prefixed source must fit `LIMITS.maxSourceLength` (124 = 128 - 4).
 */
export const WEB_MAX_SOURCE_LENGTH = LIMITS.maxSourceLength - WEB_SOURCE_PREFIX.length;
