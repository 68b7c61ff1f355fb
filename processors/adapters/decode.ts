/**
 * Kinesis records in, validated events or quarantine verdicts out.
 *
 * Base64 decode, KPL deaggregation (aws-kinesis-agg; records without the KPL magic pass through), strict
 * UTF-8, JSON, the v1 schema, then event-time checks against the record's arrival. Every user record ends as
 * exactly one outcome value; nothing here throws on bad data.
 */
import { isUtf8 } from 'node:buffer';
import aggregation from 'aws-kinesis-agg';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { ResolvedConfig } from '../../common/config.ts';
import {
  LIMITS,
  type QuarantineReason,
  type ShardlineEvent,
  validateEnvelope,
} from '../../common/envelope.ts';
import { fastValidateOwned } from '../../common/envelope-fast.ts';
import { POSITION_WIDTH } from '../core/position.ts';

interface KplUserRecord {
  partitionKey: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  data: string;
}
type Deaggregate = (
  record: {
    data: string;
    partitionKey: string;
    sequenceNumber: string;
    approximateArrivalTimestamp?: number;
  },
  computeChecksums: boolean,
  done: (err: Error | null | undefined, records?: KplUserRecord[]) => void,
) => void;
// A static import, so esbuild bundles the library into the Lambda asset (a createRequire call it leaves
// alone, and the deployed function has no node_modules). Our own signature: the library's types describe
// the record as the aws-sdk v2 shape.
const deaggregateSync = aggregation.deaggregateSync as unknown as Deaggregate;

const KPL_MAGIC = [0xf3, 0x89, 0x9a, 0xc2] as const;

/** Where a user record came from. */
export interface RecordOrigin {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
  /** `toPosition(sequenceNumber)`. */
  readonly position: string;
  readonly partitionKey: string;
  /** Arrival at the stream, epoch ms. */
  readonly arrivalMs: number;
  readonly eventSourceARN: string;
}

export type DecodeOutcome =
  | {
      readonly ok: true;
      readonly origin: RecordOrigin;
      readonly event: ShardlineEvent;
      /** `origin.position` again: an accepted outcome is itself the fold's input (`FoldInput`), no copy. */
      readonly position: string;
    }
  | {
      readonly ok: false;
      readonly origin: RecordOrigin;
      readonly reason: QuarantineReason;
      readonly detail: string;
      readonly data: Buffer;
      readonly eventId: string | null;
    };

function isKpl(buf: Buffer, length: number): boolean {
  return (
    length > 20 &&
    buf[0] === KPL_MAGIC[0] &&
    buf[1] === KPL_MAGIC[1] &&
    buf[2] === KPL_MAGIC[2] &&
    buf[3] === KPL_MAGIC[3]
  );
}

/** `0|[1-9]\d{0,128}` (what `toPosition` accepts), without a regular expression: it runs once per record. */
function validSequence(seq: string): boolean {
  const n = seq.length;
  if (n === 0 || n > POSITION_WIDTH) return false;
  const c0 = seq.charCodeAt(0);
  if (c0 === 48) return n === 1;
  if (c0 < 49 || c0 > 57) return false;
  for (let i = 1; i < n; i++) {
    const c = seq.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const ZERO_POSITION = '0'.padStart(POSITION_WIDTH, '0');
/** `ZEROS[k]` is k zeros: `ZEROS[POSITION_WIDTH - seq.length] + seq` is `toPosition(seq)` without copying. */
const ZEROS = Array.from({ length: POSITION_WIDTH + 1 }, (_, k) => '0'.repeat(k));

/**
 * Where plain records are base64-decoded: one buffer reused for every record (grown as needed), so an
 * accepted record costs no Buffer of its own; a rejected one gets a copy of its bytes for quarantine.
 */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/** Base64-decodes `data` into the scratch buffer; returns the decoded length. */
function decodeToScratch(data: string): number {
  const max = (data.length * 3) >>> 2;
  if (max > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(max, scratch.length * 2));
  return scratch.write(data, 0, 'base64');
}

/** Decodes and validates every user record of a batch, in stream order. */
export function decodeRecords(
  records: readonly KinesisStreamRecord[],
  processing: ResolvedConfig['processing'],
): DecodeOutcome[] {
  const out: DecodeOutcome[] = [];
  const lateMs = processing.allowedLatenessSeconds * 1000;
  const futureMs = processing.maxFutureSkewSeconds * 1000;
  // Records of one shard share the shard id: reuse one string instead of slicing one per record.
  let lastShard = '';
  for (const record of records) {
    const k = record.kinesis;
    const seq = k.sequenceNumber;
    const id = record.eventID ?? '';
    const colon = id.lastIndexOf(':');
    let shardId: string;
    if (colon <= 0) shardId = 'shardId-unknown';
    else if (colon === lastShard.length && id.startsWith(lastShard)) shardId = lastShard;
    else shardId = lastShard = id.slice(0, colon);
    const seqOk = validSequence(seq);
    const base: RecordOrigin = {
      shardId,
      sequenceNumber: seq,
      subSequenceNumber: 0,
      position: seqOk ? ZEROS[POSITION_WIDTH - seq.length] + seq : ZERO_POSITION,
      partitionKey: k.partitionKey,
      arrivalMs: Math.round(k.approximateArrivalTimestamp * 1000),
      eventSourceARN: record.eventSourceARN,
    };
    const n = decodeToScratch(k.data ?? '');
    if (!isKpl(scratch, n)) {
      out.push(judge(scratch, n, true, base, seqOk, lateMs, futureMs));
      continue;
    }
    let users: KplUserRecord[] | undefined;
    let failure: Error | null | undefined;
    deaggregateSync(
      { data: k.data, partitionKey: k.partitionKey, sequenceNumber: seq },
      true,
      (err, recs) => {
        failure = err;
        users = recs;
      },
    );
    // An aggregate holding no user record would otherwise leave no outcome: the record would vanish.
    if (failure || !users || users.length === 0) {
      out.push({
        ok: false,
        origin: base,
        reason: 'kpl_invalid',
        detail: failure
          ? `KPL aggregated record could not be deaggregated: ${failure.message}`
          : 'KPL aggregated record holds no user records',
        data: Buffer.from(scratch.subarray(0, n)),
        eventId: null,
      });
      continue;
    }
    for (const [i, u] of users.entries()) {
      const origin = { ...base, subSequenceNumber: u.subSequenceNumber ?? i, partitionKey: u.partitionKey };
      const data = Buffer.from(u.data, 'base64');
      out.push(judge(data, data.length, false, origin, seqOk, lateMs, futureMs));
    }
  }
  return out;
}

function rejected(
  origin: RecordOrigin,
  data: Buffer,
  reason: QuarantineReason,
  detail: string,
  eventId: string | null = null,
): DecodeOutcome {
  return { ok: false, origin, reason, detail, data, eventId };
}

/** The record's bytes for a rejected outcome: a copy when they sit in the shared scratch buffer. */
function own(buf: Buffer, length: number, shared: boolean): Buffer {
  if (shared) return Buffer.from(buf.subarray(0, length));
  return length === buf.length ? buf : buf.subarray(0, length);
}

/** U+FFFD: what the UTF-8 decoder puts in place of every invalid sequence. */
const REPLACEMENT = '\uFFFD';

/**
 * Judges the record whose bytes are `buf[0, length)`. `shared`: `buf` is the scratch buffer, so a
 * rejection keeps a copy of the bytes (the outcome outlives the next record).
 */
function judge(
  buf: Buffer,
  length: number,
  shared: boolean,
  origin: RecordOrigin,
  seqOk: boolean,
  lateMs: number,
  futureMs: number,
): DecodeOutcome {
  if (!seqOk) {
    return rejected(
      origin,
      own(buf, length, shared),
      'schema_violation',
      `sequenceNumber must match 0|[1-9]\\d{0,128}; got ${JSON.stringify(origin.sequenceNumber)}`,
    );
  }
  if (length === 0)
    return rejected(
      origin,
      own(buf, length, shared),
      'empty_data',
      'record data is empty; expected a JSON envelope',
    );
  if (length > LIMITS.maxEventBytes) {
    return rejected(
      origin,
      own(buf, length, shared),
      'oversize',
      `record is ${length} bytes; the envelope limit is ${LIMITS.maxEventBytes}`,
    );
  }
  const text = buf.toString('utf8', 0, length);
  // Strict UTF-8: invalid input always decodes with U+FFFD in it, so only such text needs the byte check
  // (for ASCII text the search is immediate: a one-byte string cannot hold U+FFFD).
  if (text.includes(REPLACEMENT) && !isUtf8(buf.subarray(0, length)))
    return rejected(origin, own(buf, length, shared), 'invalid_utf8', 'record data is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const preview = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    return rejected(
      origin,
      own(buf, length, shared),
      'invalid_json',
      `not JSON (${(err as Error).message}); received ${JSON.stringify(preview)}`,
    );
  }
  // The common case: proven valid by the fast path, reusing the parsed object (this function owns it).
  let event = fastValidateOwned(value);
  if (event === undefined) {
    const result = validateEnvelope(value);
    if (!result.ok) {
      const id =
        typeof value === 'object' && value !== null ? (value as { eventId?: unknown }).eventId : undefined;
      return rejected(
        origin,
        own(buf, length, shared),
        result.reason,
        result.detail,
        typeof id === 'string' ? id : null,
      );
    }
    event = result.event;
  }
  if (origin.arrivalMs - event.ts > lateMs) {
    return rejected(
      origin,
      own(buf, length, shared),
      'late',
      `event time ${new Date(event.ts).toISOString()} is ${Math.round((origin.arrivalMs - event.ts) / 1000)} s before its arrival; allowed lateness is ${lateMs / 1000} s`,
      event.eventId,
    );
  }
  if (event.ts - origin.arrivalMs > futureMs) {
    return rejected(
      origin,
      own(buf, length, shared),
      'future_timestamp',
      `event time ${new Date(event.ts).toISOString()} is ${Math.round((event.ts - origin.arrivalMs) / 1000)} s after its arrival; at most ${futureMs / 1000} s is allowed`,
      event.eventId,
    );
  }
  return { ok: true, origin, event, position: origin.position };
}
