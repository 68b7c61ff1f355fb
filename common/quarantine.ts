/**
 * A quarantined record as the processor sends it to the quarantine delivery stream (one JSON object per
 * line, newline-terminated). Keeps the original bytes, so nothing is ever lost; distinct by
 * (`shardId`, `sequenceNumber`, `subSequenceNumber`), since a replayed batch may send a record twice.
 */
import type { QuarantineReason } from './envelope.ts';

export interface QuarantineRecord {
  /** Machine-readable reason. */
  reason: QuarantineReason;
  /** Human-readable detail: what was received and what was expected. */
  detail: string;
  shardId: string;
  sequenceNumber: string;
  /** Index of the user record inside a KPL aggregate; 0 for a plain record. */
  subSequenceNumber: number;
  partitionKey: string;
  /** `eventId` when the record parsed far enough to have one. */
  eventId: string | null;
  /**
   * Original bytes, base64 (of the user record, after KPL deaggregation when that succeeded). Records over
   * {@link MAX_QUARANTINE_DATA_BYTES} keep only their first bytes here (Firehose caps a record at 1,000 KiB);
   * the full bytes stay in the raw archive's error output.
   */
  data: string;
  /** Length of the original data in bytes. */
  dataBytes: number;
  /** Whether `data` holds only the first {@link MAX_QUARANTINE_DATA_BYTES} bytes. */
  dataTruncated: boolean;
  /** Arrival time at the stream, ISO-8601. */
  approximateArrivalTimestamp: string;
  eventSourceARN: string;
  /** When the processor quarantined it, ISO-8601. */
  quarantinedAt: string;
}

/** Largest original payload a quarantine record carries whole. */
export const MAX_QUARANTINE_DATA_BYTES = 512 * 1024;

/** Table types of each `QuarantineRecord` field: the compiler checks none is missing. */
const QUARANTINE_TYPES: Readonly<Record<keyof QuarantineRecord, { glue: string; duck: string }>> = {
  reason: { glue: 'string', duck: 'VARCHAR' },
  detail: { glue: 'string', duck: 'VARCHAR' },
  shardId: { glue: 'string', duck: 'VARCHAR' },
  sequenceNumber: { glue: 'string', duck: 'VARCHAR' },
  subSequenceNumber: { glue: 'int', duck: 'INTEGER' },
  partitionKey: { glue: 'string', duck: 'VARCHAR' },
  eventId: { glue: 'string', duck: 'VARCHAR' },
  data: { glue: 'string', duck: 'VARCHAR' },
  dataBytes: { glue: 'int', duck: 'BIGINT' },
  dataTruncated: { glue: 'boolean', duck: 'BOOLEAN' },
  approximateArrivalTimestamp: { glue: 'string', duck: 'VARCHAR' },
  eventSourceARN: { glue: 'string', duck: 'VARCHAR' },
  quarantinedAt: { glue: 'string', duck: 'VARCHAR' },
};

/**
 * Columns of the quarantine table: `name` lower-cased as Glue stores it, `json` the record's key, with the
 * Glue (Athena) and DuckDB types. One list for the CDK table and the local engine's view.
 */
export const QUARANTINE_COLUMNS: readonly {
  readonly name: string;
  readonly json: keyof QuarantineRecord;
  readonly glueType: string;
  readonly duckdbType: string;
}[] = (Object.keys(QUARANTINE_TYPES) as (keyof QuarantineRecord)[]).map((json) => ({
  name: json.toLowerCase(),
  json,
  glueType: QUARANTINE_TYPES[json].glue,
  duckdbType: QUARANTINE_TYPES[json].duck,
}));
