/**
 * The local topic rule's actions: what `SELECT *, topic(2) AS source FROM 'devices/+/events'` produced
 * goes to the stream in batches (PutRecords, ≤500 records a call, retrying only the entries the service
 * reported failed, with full-jitter backoff); what it could not deliver, and what the rule rejected (not
 * JSON, over 128 KiB), goes to the quarantine delivery stream with a reason. Nothing is dropped unseen:
 * every message is counted, and a message is settled (its promise resolves) only once it is on the stream
 * or in quarantine.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { ulid } from 'ulid';
import { describeValue, ServiceError } from '../../../common/errors.ts';
import type { DeviceMapping, DeviceRuleOutcome, DeviceRuleRejection } from '../../../common/iot.ts';
import { MAX_QUARANTINE_DATA_BYTES, type QuarantineRecord } from '../../../common/quarantine.ts';
import type { QuarantineSink } from '../../../processors/index.ts';
import { type PutOptions, putRecordsAll } from '../../../producers/ingest/put.ts';

export interface DeviceRuleOptions {
  readonly mapping: DeviceMapping;
  /** Stream the Kinesis action writes to. */
  readonly streamName: string;
  /** Kinesis client pointed at the stream (`common/aws.ts`). */
  readonly kinesis: KinesisClient;
  /** Where rejected and undeliverable messages go; null only counts and logs them. */
  readonly quarantine: QuarantineSink | null;
  /** ARN the quarantine records carry as `eventSourceARN`, e.g. `arn:aws:iot:<region>:<account>:rule/<name>`. */
  readonly ruleArn: string;
  /** Records per PutRecords call, 1–500. @default 500 */
  readonly maxBatchRecords?: number;
  /**
   * PutRecords calls in flight at once, 1–16. A message is sent at once when fewer are in flight; otherwise
   * it joins the next batch, so batches grow with the load and nothing waits on a timer. @default 4
   */
  readonly maxConcurrentPuts?: number;
  /** Retry settings of the PutRecords calls. @default 4 attempts, 50 ms base, 1 s cap */
  readonly put?: PutOptions;
  readonly log?: (line: string) => void;
}

/** One message the broker received on a topic of the rule. */
export interface DeviceMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly clientId: string;
}

/** Where a message ended up. */
export type Settled = 'stream' | 'quarantine';

/** Counters since the rule started (the local view of IoT Core's rule metrics). */
export interface DeviceRuleStats {
  /** Messages on the rule's topics (IoT Core: `TopicMatch`). */
  matched: number;
  /** Records the Kinesis action put on the stream. */
  forwarded: number;
  /** Messages not forwarded, by reason (`invalid_json`/`invalid_utf8`: IoT Core's `ParseError`). */
  rejected: Partial<Record<DeviceRuleRejection, number>>;
  /** Rejected messages written to the quarantine stream. */
  quarantined: number;
  /** Rejected messages the quarantine stream did not take either (logged; the publisher is not acknowledged). */
  lost: number;
  /** Messages matched and not yet settled (batched, or in a PutRecords or quarantine call). */
  pending: number;
  /** PutRecords calls. */
  putRequests: number;
  /** Entry re-sends after a partial failure. */
  retried: number;
}

interface Pending {
  readonly message: DeviceMessage;
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly settle: (err: Error | null, where?: Settled) => void;
}

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ServiceError(
      `${name} must be an integer between ${min} and ${max}; received ${describeValue(v)}`,
    );
  }
  return v;
}

/** The rule's actions with their batching; the broker calls {@link DeviceRule.apply} per matching message. */
export class DeviceRule {
  readonly mapping: DeviceMapping;
  readonly #o: DeviceRuleOptions;
  readonly #maxBatch: number;
  readonly #maxConcurrent: number;
  readonly #log: (line: string) => void;
  #batch: Pending[] = [];
  #sending = 0;
  readonly #inflight = new Set<Promise<unknown>>();
  #unsettled = 0;
  readonly #stats: DeviceRuleStats = {
    matched: 0,
    forwarded: 0,
    rejected: {},
    quarantined: 0,
    lost: 0,
    pending: 0,
    putRequests: 0,
    retried: 0,
  };

  constructor(options: DeviceRuleOptions) {
    this.#o = options;
    this.mapping = options.mapping;
    this.#maxBatch = checkInt('maxBatchRecords', options.maxBatchRecords ?? 500, 1, 500);
    this.#maxConcurrent = checkInt('maxConcurrentPuts', options.maxConcurrentPuts ?? 4, 1, 16);
    this.#log = options.log ?? (() => undefined);
  }

  /**
   * Applies the rule's outcome for one message; resolves once the message is on the stream or in
   * quarantine, rejects if neither took it (the broker then withholds the PUBACK).
   */
  apply(outcome: Exclude<DeviceRuleOutcome, { kind: 'no_match' }>, message: DeviceMessage): Promise<Settled> {
    this.#stats.matched++;
    this.#unsettled++;
    const done =
      outcome.kind === 'record'
        ? new Promise<Settled>((resolve, reject) => {
            this.#batch.push({
              message,
              data: outcome.data,
              partitionKey: outcome.partitionKey,
              settle: (err, where) => (err ? reject(err) : resolve(where ?? 'stream')),
            });
            this.#pump();
          })
        : this.#reject(message, outcome.reason, outcome.detail).then(() => 'quarantine' as const);
    return this.#track(done.finally(() => this.#unsettled--));
  }

  /** Waits until every message received so far is settled. */
  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /**
   * Drops what is batched and not yet sent, failing each message (as a crash would lose it): the broker
   * acknowledged none of them, so their publishers resend. Used by the broker restart.
   */
  discardPending(): number {
    const dropped = this.#batch.splice(0);
    for (const p of dropped) p.settle(new ServiceError('the broker restarted before this message was sent'));
    return dropped.length;
  }

  stats(): DeviceRuleStats {
    return { ...this.#stats, rejected: { ...this.#stats.rejected }, pending: this.#unsettled };
  }

  #track<T>(p: Promise<T>): Promise<T> {
    const tracked = p.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
    tracked.catch(() => undefined);
    return tracked;
  }

  /** Starts PutRecords calls for what is batched while fewer than the maximum are in flight. */
  #pump(): void {
    while (this.#sending < this.#maxConcurrent && this.#batch.length > 0) {
      const batch = this.#batch.splice(0, this.#maxBatch);
      this.#sending++;
      this.#track(
        this.#send(batch).finally(() => {
          this.#sending--;
          this.#pump();
        }),
      );
    }
  }

  async #send(batch: Pending[]): Promise<void> {
    const out = await putRecordsAll(
      this.#o.kinesis,
      this.#o.streamName,
      batch.map((p, index) => ({ index, data: p.data, partitionKey: p.partitionKey })),
      this.#o.put,
    ).catch((err: Error) => ({
      accepted: 0,
      retried: 0,
      failed: batch.map((_, index) => ({ index, code: err.name, message: err.message })),
    }));
    this.#stats.putRequests++;
    this.#stats.retried += out.retried;
    this.#stats.forwarded += out.accepted;
    const failed = new Map(out.failed.map((f) => [f.index, f]));
    await Promise.all(
      batch.map(async (p, i) => {
        const f = failed.get(i);
        if (f === undefined) return p.settle(null, 'stream');
        try {
          await this.#reject(
            p.message,
            'delivery_failed',
            `Kinesis PutRecords to stream ${this.#o.streamName} failed after retries: ${f.code}: ${f.message}`,
          );
          p.settle(null, 'quarantine');
        } catch (err) {
          p.settle(err as Error);
        }
      }),
    );
  }

  async #reject(message: DeviceMessage, reason: DeviceRuleRejection, detail: string): Promise<void> {
    this.#stats.rejected[reason] = (this.#stats.rejected[reason] ?? 0) + 1;
    this.#log(
      `[mqtt] ${reason} on ${message.topic} from client ${JSON.stringify(message.clientId)}: ${detail}`,
    );
    const sink = this.#o.quarantine;
    if (sink === null) {
      this.#stats.lost++;
      throw new ServiceError(
        `message on ${message.topic} rejected (${reason}) and no quarantine stream to keep it`,
      );
    }
    const record = quarantineRecordOf(message, reason, detail, this.#o.ruleArn, this.mapping.sourceLevel);
    const out = await sink.send([record]);
    if (out.failed.length > 0) {
      this.#stats.lost++;
      throw new ServiceError(
        `message on ${message.topic} rejected (${reason}) and the quarantine stream did not take it: ${out.lastError ?? 'unknown error'}`,
        { retryable: true },
      );
    }
    this.#stats.quarantined++;
  }
}

/**
 * A quarantine record for a message the rule did not put on the stream. It has no shard or sequence
 * number: `shardId` is `mqtt` and `sequenceNumber` a fresh ULID, so each message is one distinct record.
 */
export function quarantineRecordOf(
  message: DeviceMessage,
  reason: DeviceRuleRejection,
  detail: string,
  ruleArn: string,
  sourceLevel: number,
  now: Date = new Date(),
): QuarantineRecord {
  const bytes = Buffer.from(message.payload);
  const kept = bytes.subarray(0, MAX_QUARANTINE_DATA_BYTES);
  return {
    reason,
    detail: `${detail} (topic ${JSON.stringify(message.topic)}, MQTT client ${JSON.stringify(message.clientId)})`,
    shardId: 'mqtt',
    sequenceNumber: ulid(now.getTime()),
    subSequenceNumber: 0,
    partitionKey: message.topic.split('/')[sourceLevel - 1] ?? '',
    eventId: eventIdOf(bytes),
    data: kept.toString('base64'),
    dataBytes: bytes.length,
    dataTruncated: kept.length < bytes.length,
    approximateArrivalTimestamp: now.toISOString(),
    eventSourceARN: ruleArn,
    quarantinedAt: now.toISOString(),
  };
}

function eventIdOf(bytes: Buffer): string | null {
  if (bytes.length > MAX_QUARANTINE_DATA_BYTES) return null;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as { eventId?: unknown };
    return typeof v?.eventId === 'string' ? v.eventId.slice(0, 64) : null;
  } catch {
    return null;
  }
}
