/**
 * The event envelope, version 1: one JSON object per Kinesis user record (UTF-8).
 *
 * This zod schema is the single source of truth for what an event is: producers validate with it before
 * sending, the processor validates every record with it, and the Glue/Parquet columns are generated from it
 * ({@link ARCHIVE_COLUMNS}).
 *
 * @example
 * ```json
 * {"v":1,"eventId":"01JDX3M6R0V5Q2B8K9T4W7Y1ZC","source":"device-0042","type":"telemetry",
 *  "ts":"2026-11-22T01:45:12.345Z","metrics":{"temperature":21.5},"dims":{"site":"berlin"}}
 * ```
 */
import { z } from 'zod';
import { fastValidate } from './envelope-fast.ts';
import { LIMITS } from './limits.ts';

export { LIMITS };

const ID_RE = /^[A-Za-z0-9_.:-]+$/;
const NAME_RE = /^(?!__)[A-Za-z_][A-Za-z0-9_]*$/;
/** ISO-8601 in UTC: `YYYY-MM-DDTHH:MM:SS[.fff]Z` (or `+00:00`). */
const ISO_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$/;

const name = z
  .string()
  .min(1)
  .max(LIMITS.maxNameLength)
  .regex(NAME_RE, 'must match [A-Za-z_][A-Za-z0-9_]* and not start with __');

const timestamp = z.union([
  z
    .string()
    .regex(ISO_UTC_RE, 'must be ISO-8601 UTC like 2026-11-22T01:45:12.345Z')
    .transform((s, ctx) => {
      const ms = Date.parse(s);
      if (!Number.isFinite(ms)) {
        ctx.addIssue({ code: 'custom', message: `is not a real date: ${s}` });
        return z.NEVER;
      }
      return ms;
    }),
  z.number().int('epoch milliseconds must be an integer'),
]);

/** The zod schema of the v1 envelope, as received (before normalization). */
export const EnvelopeSchema = z.strictObject({
  v: z.literal(1),
  eventId: z.string().min(1).max(LIMITS.maxEventIdLength).regex(ID_RE, 'must match [A-Za-z0-9_.:-]+'),
  source: z.string().min(1).max(LIMITS.maxSourceLength),
  type: z.string().min(1).max(LIMITS.maxTypeLength).regex(ID_RE, 'must match [A-Za-z0-9_.:-]+'),
  ts: timestamp.pipe(
    z
      .number()
      .min(LIMITS.minTsMs, 'must be on or after 2000-01-01')
      .max(LIMITS.maxTsMs - 1, 'must be before 2100-01-01'),
  ),
  metrics: z
    .record(name, z.number().finite().min(-LIMITS.maxAbsMetric).max(LIMITS.maxAbsMetric))
    .default({})
    .refine((m) => Object.keys(m).length <= LIMITS.maxMetrics, `at most ${LIMITS.maxMetrics} metrics`),
  dims: z
    .record(name, z.string().max(LIMITS.maxDimValueLength))
    .default({})
    .refine((d) => Object.keys(d).length <= LIMITS.maxDims, `at most ${LIMITS.maxDims} dims`),
});

/** An envelope as a producer writes it (`ts` as ISO string or epoch ms). */
export type EnvelopeInput = z.input<typeof EnvelopeSchema>;

/** A validated, normalized event: `ts` is epoch milliseconds (UTC). */
export interface ShardlineEvent {
  readonly v: 1;
  readonly eventId: string;
  readonly source: string;
  readonly type: string;
  /** Event time, epoch milliseconds UTC. */
  readonly ts: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly dims: Readonly<Record<string, string>>;
}

/** Outcome of validating one envelope: a value, never an exception. */
export type ValidationResult =
  | { readonly ok: true; readonly event: ShardlineEvent }
  | { readonly ok: false; readonly reason: QuarantineReason; readonly detail: string };

/**
 * Machine-readable reasons a record is quarantined. Stable: dashboards and SQL group by them.
 */
export const QUARANTINE_REASONS = [
  'empty_data',
  'oversize',
  'invalid_utf8',
  'invalid_json',
  'schema_violation',
  'unsupported_version',
  'kpl_invalid',
  'late',
  'future_timestamp',
  /** The MQTT topic rule could not put the message on the stream (its error action); see `common/iot.ts`. */
  'delivery_failed',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** Validates an already-parsed JSON value against the v1 schema. */
export function validateEnvelope(value: unknown): ValidationResult {
  const fast = fastValidate(value);
  if (fast !== undefined) return { ok: true, event: fast };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = (value as { v?: unknown }).v;
    if (v !== 1) {
      return {
        ok: false,
        reason: v === undefined ? 'schema_violation' : 'unsupported_version',
        detail: v === undefined ? 'v: required; expected 1' : `v: expected 1; got ${JSON.stringify(v)}`,
      };
    }
  }
  const parsed = EnvelopeSchema.safeParse(value);
  if (parsed.success) return { ok: true, event: parsed.data as ShardlineEvent };
  const detail = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: 'schema_violation', detail };
}

/** Encodes an event as the JSON a producer puts on the stream, with `ts` as ISO-8601 UTC. */
export function encodeEnvelope(event: ShardlineEvent | EnvelopeInput): string {
  const ts = typeof event.ts === 'number' ? new Date(event.ts).toISOString() : event.ts;
  return JSON.stringify({ ...event, ts });
}

/** Column of the archive table (Glue/Parquet), derived from the schema. */
export interface ArchiveColumn {
  readonly name: string;
  /** Glue/Athena (Hive) type. */
  readonly glueType: string;
  /** DuckDB type of the same column. */
  readonly duckdbType: string;
  readonly comment: string;
}

const GLUE_TYPES: Record<string, { glue: string; duck: string }> = {
  v: { glue: 'int', duck: 'INTEGER' },
  eventId: { glue: 'string', duck: 'VARCHAR' },
  source: { glue: 'string', duck: 'VARCHAR' },
  type: { glue: 'string', duck: 'VARCHAR' },
  ts: { glue: 'timestamp', duck: 'TIMESTAMP' },
  metrics: { glue: 'map<string,double>', duck: 'MAP(VARCHAR, DOUBLE)' },
  dims: { glue: 'map<string,string>', duck: 'MAP(VARCHAR, VARCHAR)' },
};

/**
 * The archive's columns, one per envelope field in schema order. Names are lower-cased as Glue stores
 * them (`eventid`); the Parquet writer uses the same names. Fails loudly if the schema gains a field
 * without a column type, so the archive can never silently drop one.
 */
export const ARCHIVE_COLUMNS: readonly ArchiveColumn[] = Object.keys(EnvelopeSchema.shape).map((key) => {
  const t = GLUE_TYPES[key];
  if (!t) throw new Error(`envelope field "${key}" has no archive column type; add it to GLUE_TYPES`);
  return {
    name: key.toLowerCase(),
    glueType: t.glue,
    duckdbType: t.duck,
    comment: `envelope field ${key}`,
  };
});
