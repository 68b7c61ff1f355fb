/**
 * Producer options as users write them (all optional but the stream) and {@link resolveProducerOptions},
 * the one place where defaults are applied and every rule is checked.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { ConfigError, describeValue } from '../../common/errors.ts';
import { integerRangeRule } from '../../common/validate.ts';

/** 1 MiB: the largest data blob of one Kinesis record. */
export const MIB = 1024 * 1024;

/** Most UTF-8 bytes a partition key can take (256 characters of up to 4 bytes). */
export const MAX_KEY_BYTES = 1024;

/** How `send()` picks the shard of an event. */
export type PartitionKeyStrategy = 'source' | 'random' | 'explicitHashKey';

/** What `send()` does when `maxBufferedRecords` records are outstanding. */
export type BufferFullPolicy = 'block' | 'reject';

/** A user record the producer could not deliver after its retries (or that failed for good). */
export interface FailedRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  /** Kinesis `ErrorCode` of the last attempt, or the error name of a failed request. */
  readonly errorCode: string;
  readonly errorMessage: string;
  /** PutRecords attempts made for this record. */
  readonly attempts: number;
}

/** A user record Kinesis acknowledged. */
export interface DeliveredRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Index inside a KPL aggregated record; 0 for a plain record. */
  readonly subSequenceNumber: number;
  /** Whether the record travelled inside a KPL aggregated record. */
  readonly aggregated: boolean;
}

/** Time and sleep, injectable so tests can run retries without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface RetryOptions {
  /** PutRecords attempts per record, first one included, 1–100. @default 10 */
  readonly maxAttempts?: number;
  /** Backoff base in ms, 1–60,000: attempt n waits a random time in [0, min(cap, base·2^(n-1))). @default 50 */
  readonly baseDelayMs?: number;
  /** Backoff cap in ms, at least `baseDelayMs` and at most 300,000. @default 5000 */
  readonly maxDelayMs?: number;
}

export interface ProducerOptions {
  /** Target stream name, 1–128 characters of `[a-zA-Z0-9_.-]`. Required unless `streamArn` is given. */
  readonly streamName?: string;
  /** Target stream ARN (used instead of the name when given). */
  readonly streamArn?: string;
  /** Kinesis client; tests inject one with middleware. @default kinesisClient() from common/aws.ts */
  readonly client?: KinesisClient;
  /** Validate events in `send()` against the v1 envelope schema. @default true */
  readonly validate?: boolean;
  /** How `send()` routes events: by `source`, by a random key, or by an ExplicitHashKey from eventId. @default 'source' */
  readonly partitionKey?: PartitionKeyStrategy;
  /** Records per PutRecords request, 1–500. @default 500 */
  readonly maxRecordsPerRequest?: number;
  /** Bytes per PutRecords request (data + partition keys), 2 KiB–10 MiB (AWS documents 5 MiB, newer references 10 MiB). @default 5 MiB */
  readonly maxRequestBytes?: number;
  /** Data bytes per Kinesis record, 1–1 MiB, at most `maxRequestBytes - 1024` (room for the key). @default 1 MiB */
  readonly maxRecordBytes?: number;
  /** Time to wait for a batch to fill before sending it, 0–60,000 ms. @default 50 */
  readonly lingerMs?: number;
  /** User records accepted and not yet delivered or reported failed, 1–10,000,000. @default 10000 */
  readonly maxBufferedRecords?: number;
  /** `block`: `send()` waits for room; `reject`: `send()` throws {@link BufferFullError}. @default 'block' */
  readonly bufferFullPolicy?: BufferFullPolicy;
  /** Concurrent PutRecords requests, 1–64. @default 4 */
  readonly maxInFlightRequests?: number;
  /** Retries of failed entries and of throttled or transient request failures. */
  readonly retry?: RetryOptions;
  /**
   * Pack user records into KPL aggregated records (aws-kinesis-agg format), each at most `maxRecordBytes`:
   * small events then cost one Kinesis record (one PUT payload unit per 25 KB, one Firehose 5 KB rounding)
   * per aggregate instead of one each, and a shard carries 1 MB/s whatever the event count.
   * An aggregate routes by its first record's key, so per-key order across shards is not kept. @default true
   */
  readonly aggregate?: boolean;
  /** Called once per user record that exhausted its retries or failed for good. @default none */
  readonly onFailure?: (record: FailedRecord) => void;
  /** Called with the user records of each successful PutRecords response. @default none */
  readonly onDelivered?: (records: readonly DeliveredRecord[]) => void;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for jitter and random keys. @default Math.random */
  readonly random?: () => number;
}

export interface ResolvedProducerOptions {
  readonly streamName: string | undefined;
  readonly streamArn: string | undefined;
  readonly client: KinesisClient | undefined;
  readonly validate: boolean;
  readonly partitionKey: PartitionKeyStrategy;
  readonly maxRecordsPerRequest: number;
  readonly maxRequestBytes: number;
  readonly maxRecordBytes: number;
  readonly lingerMs: number;
  readonly maxBufferedRecords: number;
  readonly bufferFullPolicy: BufferFullPolicy;
  readonly maxInFlightRequests: number;
  readonly retry: Required<RetryOptions>;
  readonly aggregate: boolean;
  readonly onFailure: ((record: FailedRecord) => void) | undefined;
  readonly onDelivered: ((records: readonly DeliveredRecord[]) => void) | undefined;
  readonly clock: Clock;
  readonly random: () => number;
}

/**
 * Applies defaults and checks every rule; throws one {@link ConfigError} listing each problem with the
 * value received.
 *
 * @example
 * ```ts
 * resolveProducerOptions({ streamName: 's', maxRecordsPerRequest: 0 });
 * // ConfigError: invalid producer options:
 * //   maxRecordsPerRequest: must be an integer between 1 and 500; received 0
 * ```
 */
export function resolveProducerOptions(input: ProducerOptions): ResolvedProducerOptions {
  const problems: string[] = [];
  const int = (path: string, value: number | undefined, min: number, max: number, dflt: number): number => {
    if (value === undefined) return dflt;
    const rule = integerRangeRule(value, min, max);
    if (rule !== undefined) {
      problems.push(`  ${path}: ${rule}`);
      return dflt;
    }
    return value;
  };
  const oneOf = <T extends string>(path: string, value: T | undefined, values: readonly T[], dflt: T): T => {
    if (value === undefined) return dflt;
    if (!values.includes(value)) {
      problems.push(`  ${path}: must be one of ${values.join(', ')}; received ${describeValue(value)}`);
      return dflt;
    }
    return value;
  };
  const bool = (path: string, value: boolean | undefined, dflt: boolean): boolean => {
    if (value === undefined) return dflt;
    if (typeof value !== 'boolean') {
      problems.push(`  ${path}: must be a boolean; received ${describeValue(value)}`);
      return dflt;
    }
    return value;
  };

  if (input.streamName === undefined && input.streamArn === undefined) {
    problems.push('  streamName: required unless streamArn is given; received undefined');
  }
  if (input.streamName !== undefined && !/^[a-zA-Z0-9_.-]{1,128}$/.test(input.streamName)) {
    problems.push(
      `  streamName: must be 1-128 characters of [a-zA-Z0-9_.-]; received ${describeValue(input.streamName)}`,
    );
  }
  if (
    input.streamArn !== undefined &&
    !/^arn:aws[a-z-]*:kinesis:[^:]*:\d*:stream\/[a-zA-Z0-9_.-]{1,128}$/.test(input.streamArn)
  ) {
    problems.push(`  streamArn: must be a Kinesis stream ARN; received ${describeValue(input.streamArn)}`);
  }
  const maxRequestBytes = int('maxRequestBytes', input.maxRequestBytes, 2048, 10 * MIB, 5 * MIB);
  const maxRecordBytes = int('maxRecordBytes', input.maxRecordBytes, 1, MIB, MIB);
  if (maxRecordBytes > maxRequestBytes - MAX_KEY_BYTES) {
    problems.push(
      `  maxRecordBytes: must be at most maxRequestBytes - ${MAX_KEY_BYTES} (${maxRequestBytes - MAX_KEY_BYTES}), so any record with its key fits a request; received ${describeValue(maxRecordBytes)}`,
    );
  }
  const retryIn = input.retry ?? {};
  const baseDelayMs = int('retry.baseDelayMs', retryIn.baseDelayMs, 1, 60_000, 50);
  const maxDelayMs = int('retry.maxDelayMs', retryIn.maxDelayMs, 1, 300_000, Math.max(5000, baseDelayMs));
  if (maxDelayMs < baseDelayMs) {
    problems.push(
      `  retry.maxDelayMs: must be at least retry.baseDelayMs (${baseDelayMs}); received ${maxDelayMs}`,
    );
  }
  for (const key of ['onFailure', 'onDelivered', 'random'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'function') {
      problems.push(`  ${key}: must be a function; received ${describeValue(input[key])}`);
    }
  }
  const resolved: ResolvedProducerOptions = {
    streamName: input.streamName,
    streamArn: input.streamArn,
    client: input.client,
    validate: bool('validate', input.validate, true),
    partitionKey: oneOf(
      'partitionKey',
      input.partitionKey,
      ['source', 'random', 'explicitHashKey'],
      'source',
    ),
    maxRecordsPerRequest: int('maxRecordsPerRequest', input.maxRecordsPerRequest, 1, 500, 500),
    maxRequestBytes,
    maxRecordBytes,
    lingerMs: int('lingerMs', input.lingerMs, 0, 60_000, 50),
    maxBufferedRecords: int('maxBufferedRecords', input.maxBufferedRecords, 1, 10_000_000, 10_000),
    bufferFullPolicy: oneOf('bufferFullPolicy', input.bufferFullPolicy, ['block', 'reject'], 'block'),
    maxInFlightRequests: int('maxInFlightRequests', input.maxInFlightRequests, 1, 64, 4),
    retry: {
      maxAttempts: int('retry.maxAttempts', retryIn.maxAttempts, 1, 100, 10),
      baseDelayMs,
      maxDelayMs,
    },
    aggregate: bool('aggregate', input.aggregate, true),
    onFailure: input.onFailure,
    onDelivered: input.onDelivered,
    clock: input.clock ?? systemClock,
    random: input.random ?? Math.random,
  };
  if (problems.length > 0) throw new ConfigError(`invalid producer options:\n${problems.join('\n')}`);
  return resolved;
}
