/**
 * The event source mapping's options, validated and resolved once, and the small errors and timers every
 * part of the mapping shares.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ConfigError, ShardlineError } from '../../../common/errors.ts';
import { checkInteger } from '../../../common/validate.ts';
import { parseFunctionArn } from '../private/event.ts';

/**
 * The function a mapping invokes: the same shape as a Lambda handler. Its resolved value is the response
 * (`KinesisStreamBatchResponse`, or anything when ReportBatchItemFailures is off).
 */
export type KinesisHandler = (event: KinesisStreamEvent, context: Context) => Promise<unknown>;

/** Raised by `drain` when the mapping did not catch up in time. */
export class DrainTimeoutError extends ShardlineError {
  constructor(message: string) {
    super('DRAIN_TIMEOUT', message, { retryable: true });
  }
}

export interface EventSourceMappingOptions {
  /** The resolved `config.eventSource` block. */
  readonly eventSource: ResolvedConfig['eventSource'];
  readonly streamName: string;
  /** Echoed as `eventSourceARN` and in OnFailure records. */
  readonly streamArn: string;
  readonly kinesis: KinesisClient;
  readonly handler: KinesisHandler;
  /** Folder of checkpoints (`mapping.json`, `shards/<shardId>.json`). Created if missing. */
  readonly stateDir: string;
  readonly region: string;
  /** `arn:aws:lambda:<region>:<account>:function:<name>`. */
  readonly functionArn: string;
  /** Echoed as `invokeIdentityArn`. @default `arn:aws:iam::<account of functionArn>:role/<function name>-role` */
  readonly invokeIdentityArn?: string;
  /** Folder standing in for an S3 OnFailure destination. @default none (discarded batches are only logged) */
  readonly onFailureDir?: string;
  readonly log?: (line: string) => void;
  /** Idle poll interval per shard, 1–60,000 ms. @default 1000 (Lambda polls each shard about once a second) */
  readonly pollIntervalMs?: number;
  /** How often ListShards is re-run to find shards from resharding, 10–3,600,000 ms. @default 10000 */
  readonly shardDiscoveryIntervalMs?: number;
  /** First retry delay after a failed batch, doubled per retry up to 30 s; 0–30,000 ms. @default 500 */
  readonly retryBackoffMs?: number;
  /** Synchronous invocation payload cap in bytes, 1,024–6,291,456. @default 6291456 (6 MB) */
  readonly maxPayloadBytes?: number;
  /** Clock used for record age (tests move it forward). @default Date.now */
  readonly clock?: () => number;
  /**
   * Fault-injection hook (chaos runs, tests): called after an invocation succeeded; returning true delivers
   * the same batch once more before it is checkpointed, as a lost checkpoint does on AWS. Each batch is
   * duplicated at most once. @default never
   */
  readonly duplicateDelivery?: (shardId: string, records: number) => boolean;
}

/** The optional settings with their defaults applied. */
export interface ResolvedMappingOptions {
  readonly pollIntervalMs: number;
  readonly shardDiscoveryIntervalMs: number;
  readonly retryBackoffMs: number;
  readonly maxPayloadBytes: number;
  readonly clock: () => number;
  readonly invokeIdentityArn: string;
}

function intOption(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  return value === undefined ? fallback : checkInteger(`EventSourceMapping ${name}`, value, min, max);
}

/** Validates the options and applies the defaults; throws {@link ConfigError} naming the bad option. */
export function resolveOptions(o: EventSourceMappingOptions): ResolvedMappingOptions {
  const fn = parseFunctionArn(o.functionArn);
  if (fn === undefined) {
    throw new ConfigError(
      `EventSourceMapping functionArn must be arn:aws:lambda:<region>:<12-digit account>:function:<name>; received ${JSON.stringify(o.functionArn)}`,
    );
  }
  if (
    o.eventSource.startingPosition === 'AT_TIMESTAMP' &&
    o.eventSource.startingPositionTimestamp === undefined
  ) {
    throw new ConfigError(
      'EventSourceMapping startingPositionTimestamp is required with AT_TIMESTAMP; received undefined',
    );
  }
  return {
    pollIntervalMs: intOption('pollIntervalMs', o.pollIntervalMs, 1, 60_000, 1000),
    shardDiscoveryIntervalMs: intOption(
      'shardDiscoveryIntervalMs',
      o.shardDiscoveryIntervalMs,
      10,
      3_600_000,
      10_000,
    ),
    retryBackoffMs: intOption('retryBackoffMs', o.retryBackoffMs, 0, 30_000, 500),
    maxPayloadBytes: intOption('maxPayloadBytes', o.maxPayloadBytes, 1024, 6_291_456, 6_291_456),
    clock: o.clock ?? Date.now,
    invokeIdentityArn: o.invokeIdentityArn ?? `arn:aws:iam::${fn.account}:role/${fn.name}-role`,
  };
}

/** What a poller needs from its mapping, handed over as a value. */
export interface PollerHost {
  readonly options: EventSourceMappingOptions;
  readonly resolved: ResolvedMappingOptions;
  /** Aborts when the mapping stops. */
  readonly signal: AbortSignal;
  log(line: string): void;
  /** A shard was read to its end: look for its children soon. */
  shardEnded(): void;
  /** Writes an OnFailure record to the destination; returns where, if anywhere. */
  writeOnFailure(shardId: string, body: unknown): string | undefined;
}

/** Sleeps, waking early when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when `signal` aborts. */
export function sleepForever(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
