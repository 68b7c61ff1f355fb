/**
 * Pure pieces of the producer: request sizing, chunking, backoff, error classification, routing keys.
 */
import { createHash } from 'node:crypto';
import { InvalidRecordError } from './errors.ts';

/** PutRecords limits a request must respect. */
export interface RequestLimits {
  readonly maxRecordsPerRequest: number;
  readonly maxRequestBytes: number;
  readonly maxRecordBytes: number;
}

const encoder = new TextEncoder();

/** UTF-8 byte length of a string. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Bytes an entry counts toward the request limit: data plus partition key (UTF-8). */
export function entryBytes(data: Uint8Array, partitionKey: string): number {
  return data.byteLength + utf8Length(partitionKey);
}

const MAX_HASH_KEY = (1n << 128n) - 1n;

/**
 * Checks one record against the Kinesis per-record rules; throws {@link InvalidRecordError} naming the rule.
 */
export function checkRecord(
  data: Uint8Array,
  partitionKey: string,
  explicitHashKey: string | undefined,
  maxRecordBytes: number,
): void {
  if (!(data instanceof Uint8Array)) {
    throw new InvalidRecordError(`data must be a Uint8Array; received ${typeof data}`);
  }
  if (data.byteLength === 0) {
    throw new InvalidRecordError('data must not be empty; received 0 bytes');
  }
  if (data.byteLength > maxRecordBytes) {
    throw new InvalidRecordError(`data must be at most ${maxRecordBytes} bytes; received ${data.byteLength}`);
  }
  if (typeof partitionKey !== 'string') {
    throw new InvalidRecordError(`partition key must be a string; received ${typeof partitionKey}`);
  }
  const chars = [...partitionKey].length;
  if (chars < 1 || chars > 256) {
    throw new InvalidRecordError(`partition key must be 1-256 characters; received ${chars}`);
  }
  if (explicitHashKey !== undefined) {
    const ok = /^(0|[1-9]\d{0,38})$/.test(explicitHashKey) && BigInt(explicitHashKey) <= MAX_HASH_KEY;
    if (!ok) {
      throw new InvalidRecordError(
        `explicit hash key must be a decimal integer in 0..2^128-1; received ${JSON.stringify(explicitHashKey)}`,
      );
    }
  }
}

/**
 * Splits items, in order, into requests that respect every limit (greedy: each request is as full as
 * the next item allows). Every item must already fit alone (see {@link checkRecord}).
 */
export function chunkRequests<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  limits: RequestLimits,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const b = bytesOf(item);
    if (
      current.length > 0 &&
      (current.length >= limits.maxRecordsPerRequest || bytes + b > limits.maxRequestBytes)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += b;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(cap, base·2^(attempt-1))).
 * `attempt` is the number of attempts already made (1 after the first failure).
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

/** Per-entry PutRecords error codes worth retrying. */
export const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'InternalFailure',
  'InternalFailureException',
  'KMSThrottlingException',
]);

/**
 * How one PutRecords result entry failed, or undefined when it succeeded. A missing entry (a response with
 * fewer results than records) is `MissingResult`, retryable: the record was not acknowledged.
 */
export function entryFailure(
  result: { SequenceNumber?: string; ErrorCode?: string; ErrorMessage?: string } | undefined,
): { code: string; message: string; retryable: boolean } | undefined {
  if (result?.SequenceNumber !== undefined && result.ErrorCode === undefined) return undefined;
  const code = result?.ErrorCode ?? 'MissingResult';
  return {
    code,
    message: result?.ErrorMessage ?? 'no result for this entry',
    retryable: code === 'MissingResult' || RETRYABLE_ENTRY_CODES.has(code),
  };
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'KMSThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

const TRANSIENT = new Set([
  'InternalFailure',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/** How a failed PutRecords call should be handled. */
export type RequestErrorClass = 'throttled' | 'transient' | 'fatal';

/** Classifies an error thrown by a whole PutRecords call (SDK exception or network error). */
export function classifyRequestError(err: unknown): RequestErrorClass {
  if (typeof err !== 'object' || err === null) return 'fatal';
  const e = err as {
    name?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (THROTTLING.has(name) || THROTTLING.has(code)) return 'throttled';
  const retryable = e.$retryable as { throttling?: boolean } | undefined;
  if (retryable?.throttling === true) return 'throttled';
  if (retryable !== undefined || TRANSIENT.has(name) || TRANSIENT.has(code)) return 'transient';
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return 'transient';
  if (
    status === undefined &&
    name !== '' &&
    /network|socket|timeout/i.test(`${name} ${String((err as Error).message)}`)
  ) {
    return 'transient';
  }
  return 'fatal';
}

/** The 128-bit MD5 of a string as a decimal ExplicitHashKey: spreads keys evenly over all shards. */
export function explicitHashKeyOf(value: string): string {
  return BigInt(`0x${createHash('md5').update(value, 'utf8').digest('hex')}`).toString(10);
}

/** A random 32-hex-character partition key from a uniform [0, 1) source. */
export function randomPartitionKey(random: () => number): string {
  let out = '';
  for (let i = 0; i < 4; i++) {
    out += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  }
  return out;
}

/** UTF-8 encodes a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
