/**
 * The Node producer: validates envelopes, batches PutRecords within every Kinesis limit, retries only
 * failed entries with full-jitter backoff, and reports every record it gives up on.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../common/aws.ts';
import { type EnvelopeInput, encodeEnvelope, LIMITS, validateEnvelope } from '../../common/envelope.ts';
import {
  backoffDelay,
  checkRecord,
  classifyRequestError,
  entryBytes,
  entryFailure,
  explicitHashKeyOf,
  randomPartitionKey,
  utf8,
  utf8Length,
} from './batching.ts';
import { BufferFullError, InvalidEventError, InvalidRecordError, ProducerClosedError } from './errors.ts';
import { KplAggregate } from './kpl.ts';
import {
  type DeliveredRecord,
  type FailedRecord,
  type ProducerOptions,
  type ResolvedProducerOptions,
  resolveProducerOptions,
} from './options.ts';

/** Counters of a producer since it was created. Units are user records unless stated. */
export interface ProducerStats {
  /** Records accepted into the buffer by `send()` / `sendRaw()`. */
  readonly accepted: number;
  /** Records Kinesis acknowledged. */
  readonly sent: number;
  /** Record re-sends after a failed entry or a failed request. */
  readonly retried: number;
  /** Records given up on (reported through `onFailure`). */
  readonly failed: number;
  /** Data bytes Kinesis acknowledged (aggregated records counted as sent). */
  readonly bytes: number;
  /** PutRecords calls made. */
  readonly requests: number;
  /** Kinesis records throttled (failed entries with ProvisionedThroughputExceededException, or in a throttled request). */
  readonly throttled: number;
  /** Records accepted and not yet delivered or failed. */
  readonly buffered: number;
}

interface UserRecord {
  readonly id: number;
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
}

interface Entry {
  readonly records: readonly UserRecord[];
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly aggregated: boolean;
  readonly bytes: number;
  attempts: number;
}

/**
 * Writes envelopes to a Kinesis stream.
 *
 * @example
 * ```ts
 * const producer = new Producer({ streamName: 'shardline-events', onFailure: (r) => log(r) });
 * await producer.send(createEvent({ source: 'device-0001', type: 'telemetry', ts: Date.now(),
 *   metrics: { temperature: 21.5 } }));
 * await producer.close(); // flushes: every accepted record is now delivered or reported failed
 * ```
 */
export class Producer {
  private readonly o: ResolvedProducerOptions;
  private readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private pending: UserRecord[] = [];
  private pendingBytes = 0;
  private ready: Entry[] = [];
  private nextId = 0;
  /** Ids accepted and not settled; insertion order is id order, so the first is the smallest. */
  private readonly unsettled = new Set<number>();
  private reserved = 0;
  private readonly spaceWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushWaiters: { upTo: number; resolve: () => void }[] = [];
  private inFlight = 0;
  private lingerArmed = false;
  private lingerDue = false;
  private closed = false;
  private readonly counters = {
    accepted: 0,
    sent: 0,
    retried: 0,
    failed: 0,
    bytes: 0,
    requests: 0,
    throttled: 0,
  };

  constructor(options: ProducerOptions) {
    this.o = resolveProducerOptions(options);
    this.ownsClient = this.o.client === undefined;
    this.client = this.o.client ?? kinesisClient();
  }

  /**
   * Validates (unless `validate: false`), encodes and buffers one event. Resolves once the record is
   * accepted into the buffer, not when it is delivered (see {@link flush}).
   *
   * @throws {@link InvalidEventError} the envelope is invalid or larger than `LIMITS.maxEventBytes`
   * @throws {@link InvalidRecordError} the routing key breaks a Kinesis rule
   * @throws {@link BufferFullError} the buffer is full and the policy is `reject`
   * @throws {@link ProducerClosedError} after `close()`
   */
  async send(event: EnvelopeInput): Promise<void> {
    if (this.closed) throw new ProducerClosedError();
    if (this.o.validate) {
      const result = validateEnvelope(event);
      if (!result.ok) throw new InvalidEventError(result.reason, result.detail);
    }
    const data = utf8(encodeEnvelope(event));
    if (this.o.validate && data.byteLength > LIMITS.maxEventBytes) {
      throw new InvalidEventError(
        'oversize',
        `encoded event must be at most ${LIMITS.maxEventBytes} bytes; received ${data.byteLength}`,
      );
    }
    const source = (event as { source?: unknown }).source;
    const eventId = (event as { eventId?: unknown }).eventId;
    switch (this.o.partitionKey) {
      case 'source':
        if (typeof source !== 'string')
          throw new InvalidRecordError(`partition key (source) must be a string; received ${typeof source}`);
        return this.enqueue(data, source, undefined);
      case 'random':
        return this.enqueue(data, randomPartitionKey(this.o.random), undefined);
      case 'explicitHashKey': {
        const id = typeof eventId === 'string' ? eventId : randomPartitionKey(this.o.random);
        const pk = typeof source === 'string' && source.length > 0 ? source : id;
        return this.enqueue(data, pk, explicitHashKeyOf(id));
      }
    }
  }

  /**
   * Buffers raw bytes with no validation (the load generator injects malformed records this way).
   *
   * @throws {@link InvalidRecordError} data empty or over `maxRecordBytes`, key not 1–256 characters, bad hash key
   * @throws {@link BufferFullError} | {@link ProducerClosedError} as for {@link send}
   */
  async sendRaw(data: Uint8Array, partitionKey: string, explicitHashKey?: string): Promise<void> {
    if (this.closed) throw new ProducerClosedError();
    return this.enqueue(data, partitionKey, explicitHashKey);
  }

  /** Resolves when every record accepted so far is delivered or reported failed. */
  flush(): Promise<void> {
    const upTo = this.nextId - 1;
    if (this.settledUpTo(upTo)) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push({ upTo, resolve });
      this.pump();
    });
  }

  /**
   * Stops accepting records (senders blocked on a full buffer get {@link ProducerClosedError}), flushes,
   * and releases the client if the producer created it. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.spaceWaiters.splice(0)) w.reject(new ProducerClosedError());
    await this.flush();
    if (this.ownsClient) this.client.destroy();
  }

  /** A snapshot of the counters. */
  stats(): ProducerStats {
    return { ...this.counters, buffered: this.unsettled.size };
  }

  private async enqueue(
    data: Uint8Array,
    partitionKey: string,
    explicitHashKey: string | undefined,
  ): Promise<void> {
    checkRecord(data, partitionKey, explicitHashKey, this.o.maxRecordBytes);
    await this.reserveSlot();
    const id = this.nextId++;
    const rec: UserRecord =
      explicitHashKey === undefined
        ? { id, data, partitionKey }
        : { id, data, partitionKey, explicitHashKey };
    this.unsettled.add(id);
    this.pending.push(rec);
    this.pendingBytes += entryBytes(data, partitionKey);
    this.counters.accepted++;
    this.pump();
  }

  private reserveSlot(): Promise<void> {
    if (this.spaceWaiters.length === 0 && this.unsettled.size + this.reserved < this.o.maxBufferedRecords) {
      return Promise.resolve();
    }
    if (this.o.bufferFullPolicy === 'reject')
      return Promise.reject(new BufferFullError(this.o.maxBufferedRecords));
    const wait = new Promise<void>((resolve, reject) => {
      this.spaceWaiters.push({
        resolve: () => {
          this.reserved--;
          if (this.closed) reject(new ProducerClosedError());
          else resolve();
        },
        reject,
      });
    });
    this.pump(); // a blocked sender makes the buffered records urgent
    return wait;
  }

  private settle(id: number): void {
    this.unsettled.delete(id);
    while (this.spaceWaiters.length > 0 && this.unsettled.size + this.reserved < this.o.maxBufferedRecords) {
      this.reserved++;
      this.spaceWaiters.shift()?.resolve();
    }
    if (this.flushWaiters.length > 0) {
      const still: typeof this.flushWaiters = [];
      for (const w of this.flushWaiters) {
        if (this.settledUpTo(w.upTo)) w.resolve();
        else still.push(w);
      }
      this.flushWaiters = still;
    }
  }

  private settledUpTo(upTo: number): boolean {
    const first = this.unsettled.values().next();
    return first.done === true || first.value > upTo;
  }

  private pendingFull(): boolean {
    if (this.pendingBytes >= this.o.maxRequestBytes) return true;
    return !this.o.aggregate && this.pending.length >= this.o.maxRecordsPerRequest;
  }

  private pump(): void {
    while (this.inFlight < this.o.maxInFlightRequests) {
      if (this.ready.length === 0 && this.pending.length === 0) {
        this.lingerDue = false;
        return;
      }
      const urgent =
        this.ready.length > 0 ||
        this.lingerDue ||
        this.o.lingerMs === 0 ||
        this.flushWaiters.length > 0 ||
        this.spaceWaiters.length > 0 ||
        this.closed ||
        this.pendingFull();
      if (!urgent) {
        this.armLinger();
        return;
      }
      const batch = this.takeBatch();
      this.inFlight++;
      void this.dispatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private armLinger(): void {
    if (this.lingerArmed) return;
    this.lingerArmed = true;
    void this.o.clock.sleep(this.o.lingerMs).then(() => {
      this.lingerArmed = false;
      this.lingerDue = true;
      this.pump();
    });
  }

  /** Takes retries first, then fresh records, as one request within every limit. */
  private takeBatch(): Entry[] {
    const { maxRecordsPerRequest, maxRequestBytes, maxRecordBytes } = this.o;
    const entries: Entry[] = [];
    let bytes = 0;
    const fits = (b: number) =>
      entries.length < maxRecordsPerRequest && (entries.length === 0 || bytes + b <= maxRequestBytes);
    let r = 0;
    while (r < this.ready.length) {
      const e = this.ready[r] as Entry;
      if (!fits(e.bytes)) break;
      entries.push(e);
      bytes += e.bytes;
      r++;
    }
    this.ready.splice(0, r);
    let p = 0;
    while (p < this.pending.length && entries.length < maxRecordsPerRequest) {
      const first = this.pending[p] as UserRecord;
      if (this.o.aggregate) {
        const room = maxRequestBytes - bytes - utf8Length(first.partitionKey);
        const agg = new KplAggregate(Math.min(maxRecordBytes, room));
        let q = p;
        while (q < this.pending.length && agg.tryAdd(this.pending[q] as UserRecord)) q++;
        const built = agg.build();
        const b = entryBytes(built.data, built.partitionKey);
        if (!fits(b)) break;
        const members = this.pending.slice(p, q);
        entries.push({
          records: members,
          data: built.data,
          partitionKey: built.partitionKey,
          ...(built.explicitHashKey === undefined ? {} : { explicitHashKey: built.explicitHashKey }),
          aggregated: members.length > 1,
          bytes: b,
          attempts: 0,
        });
        bytes += b;
        for (const m of members) this.pendingBytes -= entryBytes(m.data, m.partitionKey);
        p = q;
      } else {
        const b = entryBytes(first.data, first.partitionKey);
        if (!fits(b)) break;
        entries.push({
          records: [first],
          data: first.data,
          partitionKey: first.partitionKey,
          ...(first.explicitHashKey === undefined ? {} : { explicitHashKey: first.explicitHashKey }),
          aggregated: false,
          bytes: b,
          attempts: 0,
        });
        bytes += b;
        this.pendingBytes -= b;
        p++;
      }
    }
    this.pending.splice(0, p);
    return entries;
  }

  private async dispatch(entries: Entry[]): Promise<void> {
    this.counters.requests++;
    const Records: PutRecordsRequestEntry[] = entries.map((e) => ({
      Data: e.data,
      PartitionKey: e.partitionKey,
      ...(e.explicitHashKey === undefined ? {} : { ExplicitHashKey: e.explicitHashKey }),
    }));
    let results: { ErrorCode?: string; ErrorMessage?: string; ShardId?: string; SequenceNumber?: string }[];
    try {
      const out = await this.client.send(
        new PutRecordsCommand({
          Records,
          ...(this.o.streamArn === undefined
            ? { StreamName: this.o.streamName }
            : { StreamARN: this.o.streamArn }),
        }),
      );
      results = out.Records ?? [];
    } catch (err) {
      const cls = classifyRequestError(err);
      if (cls === 'throttled') this.counters.throttled += entries.length;
      const name = err instanceof Error ? err.name : 'Error';
      const message = err instanceof Error ? err.message : String(err);
      for (const e of entries) {
        e.attempts++;
        this.retryOrFail(e, name, message, cls !== 'fatal');
      }
      return;
    }
    const delivered: DeliveredRecord[] = [];
    const succeeded: Entry[] = [];
    entries.forEach((e, i) => {
      e.attempts++;
      const failure = entryFailure(results[i]);
      if (failure !== undefined) {
        if (failure.code === 'ProvisionedThroughputExceededException') this.counters.throttled++;
        this.retryOrFail(e, failure.code, failure.message, failure.retryable);
        return;
      }
      const r = results[i]!; // acknowledged: entryFailure found its sequence number
      succeeded.push(e);
      this.counters.sent += e.records.length;
      this.counters.bytes += e.data.byteLength;
      e.records.forEach((u, sub) => {
        delivered.push({
          data: u.data,
          partitionKey: u.partitionKey,
          shardId: r.ShardId ?? '',
          sequenceNumber: r.SequenceNumber as string,
          subSequenceNumber: e.aggregated ? sub : 0,
          aggregated: e.aggregated,
        });
      });
    });
    if (delivered.length > 0 && this.o.onDelivered) {
      try {
        this.o.onDelivered(delivered);
      } catch {
        // A throwing callback must not lose the settlement below.
      }
    }
    for (const e of succeeded) for (const u of e.records) this.settle(u.id);
  }

  private retryOrFail(e: Entry, code: string, message: string, retryable: boolean): void {
    if (retryable && e.attempts < this.o.retry.maxAttempts) {
      this.counters.retried += e.records.length;
      const delay = backoffDelay(
        e.attempts,
        this.o.retry.baseDelayMs,
        this.o.retry.maxDelayMs,
        this.o.random,
      );
      void this.o.clock.sleep(delay).then(() => {
        this.ready.push(e);
        this.pump();
      });
      return;
    }
    this.counters.failed += e.records.length;
    for (const u of e.records) {
      const failure: FailedRecord = {
        data: u.data,
        partitionKey: u.partitionKey,
        ...(u.explicitHashKey === undefined ? {} : { explicitHashKey: u.explicitHashKey }),
        errorCode: code,
        errorMessage: message,
        attempts: e.attempts,
      };
      try {
        this.o.onFailure?.(failure);
      } catch {
        // The failure is still counted; a throwing callback must not block settlement.
      }
      this.settle(u.id);
    }
  }
}
