/**
 * Reads one shard for the event source mapping: shard iterators (reopened when they expire), GetRecords
 * pages into a buffer, and batches cut from it by BatchSize, the batching window and the 6 MB synchronous
 * invocation payload cap.
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { EVENT_OVERHEAD_BYTES, type PolledRecord } from '../private/event.ts';
import { errorMessage, sleep } from './options.ts';

/** Where a shard without a checkpoint starts. */
export type StartPosition =
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AT_TIMESTAMP'; ms: number };

export interface ShardReaderOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly shardId: string;
  readonly start: StartPosition;
  /** The checkpoint to resume after, or null. */
  readonly lastRead: string | null;
  readonly batchSize: number;
  /** MaximumBatchingWindowInSeconds in ms. */
  readonly windowMs: number;
  readonly pollIntervalMs: number;
  readonly maxPayloadBytes: number;
  /** The record's share of the invocation payload, in bytes. */
  readonly sizeOf: (record: PolledRecord) => number;
  /** Aborts every wait and read. */
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
  /** Called with each page's MillisBehindLatest. */
  readonly onPage: (millisBehindLatest: number | null) => void;
}

/** Reads one shard into batches. */
export class ShardReader {
  readonly #o: ShardReaderOptions;
  #iterator: string | undefined;
  /** Records read but not yet taken. */
  #buffer: PolledRecord[] = [];
  /** Payload bytes of each buffered record (parallel to `#buffer`), and their sum. */
  #sizes: number[] = [];
  #bufferBytes = 0;
  #lastRead: string | null;
  #ended = false;
  /** Start time of the last empty read at the tip with nothing buffered. */
  #tipAt = Number.NEGATIVE_INFINITY;
  /** Records older than this are skipped (AT_TIMESTAMP emulated over TRIM_HORIZON). */
  #skipBeforeMs: number | undefined;

  constructor(options: ShardReaderOptions) {
    this.#o = options;
    this.#lastRead = options.lastRead;
  }

  /** The shard is closed, read to its end, and every record was taken. */
  get exhausted(): boolean {
    return this.#ended && this.#buffer.length === 0;
  }

  /** Start time (epoch ms) of the last empty read at the tip with nothing buffered. */
  get tipAt(): number {
    return this.#tipAt;
  }

  /** Gets a shard iterator: after the last record read, else at the start position. Retries until stopped. */
  async open(): Promise<void> {
    const o = this.#o;
    const base = { StreamName: o.streamName, ShardId: o.shardId };
    let input: GetShardIteratorCommandInput;
    if (this.#lastRead !== null) {
      input = { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.#lastRead };
    } else if (o.start.type === 'LATEST') {
      input = { ...base, ShardIteratorType: 'LATEST' };
    } else {
      // AT_TIMESTAMP reads from TRIM_HORIZON and skips older records: the same records on every backend, and
      // kinesalite never answers an AT_TIMESTAMP request that matches no record.
      if (o.start.type === 'AT_TIMESTAMP') this.#skipBeforeMs = o.start.ms;
      input = { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    }
    for (let attempt = 0; !o.signal.aborted; attempt++) {
      try {
        const out = await o.kinesis.send(new GetShardIteratorCommand(input));
        this.#iterator = out.ShardIterator;
        if (this.#iterator === undefined) this.#ended = true;
        return;
      } catch (err) {
        o.log(`${o.shardId}: GetShardIterator failed: ${errorMessage(err)}`);
        await sleep(Math.min(30_000, 200 * 2 ** attempt), o.signal);
      }
    }
  }

  /** Reads until a batch is ready (size, window or payload cap) and returns it; empty when idle or ended. */
  async gather(): Promise<PolledRecord[]> {
    const { batchSize, windowMs, signal } = this.#o;
    let deadline = this.#buffer.length > 0 ? Date.now() + windowMs : undefined;
    while (!signal.aborted) {
      const full = this.#take(false);
      if (full.length > 0) return full;
      if (this.#ended || this.#iterator === undefined) return this.#take(true);
      if (deadline !== undefined && Date.now() >= deadline) return this.#take(true);
      const startedAt = Date.now();
      const page = await this.#read(Math.min(10_000, Math.max(1, batchSize - this.#buffer.length)));
      if (page === undefined) return [];
      if (page.raw > 0) {
        if (this.#buffer.length > 0 && deadline === undefined) deadline = Date.now() + windowMs;
        if (windowMs === 0 && this.#buffer.length > 0) return this.#take(true);
        continue; // more may be waiting
      }
      // An empty page behind the tip (a gap in the shard): Lambda keeps reading without waiting.
      if ((page.millisBehind ?? 0) > 0 && !this.#ended) continue;
      if (this.#buffer.length === 0 && page.millisBehind === 0) this.#tipAt = startedAt;
      if (this.#buffer.length === 0) return [];
      if (deadline === undefined || Date.now() >= deadline) return this.#take(true);
      await sleep(Math.min(this.#o.pollIntervalMs, deadline - Date.now()), signal);
    }
    return [];
  }

  /** Takes the next batch off the buffer: a full one only, unless `any`. */
  #take(any: boolean): PolledRecord[] {
    const { batchSize } = this.#o;
    const cap = this.#o.maxPayloadBytes;
    const buffered = this.#buffer.length;
    // Neither the size nor the payload cap is reached by everything buffered: no full batch yet.
    if (!any && buffered < batchSize && EVENT_OVERHEAD_BYTES + this.#bufferBytes <= cap) return [];
    let bytes = EVENT_OVERHEAD_BYTES;
    let n = 0;
    let full = false;
    const sizes = this.#sizes;
    for (; n < buffered; n++) {
      if (n === batchSize) break;
      const size = sizes[n]!;
      if (n > 0 && bytes + size > cap) {
        full = true;
        break;
      }
      bytes += size;
    }
    if (n === batchSize) full = true;
    if (!full && !any) return [];
    this.#sizes.splice(0, n);
    this.#bufferBytes -= bytes - EVENT_OVERHEAD_BYTES;
    return this.#buffer.splice(0, n);
  }

  /** One GetRecords call; returns the raw record count, or undefined when stopped. */
  async #read(limit: number): Promise<{ raw: number; millisBehind: number | undefined } | undefined> {
    const o = this.#o;
    for (let attempt = 0; !o.signal.aborted; attempt++) {
      try {
        const out = await o.kinesis.send(
          new GetRecordsCommand({ ShardIterator: this.#iterator, Limit: limit }),
        );
        const records = out.Records ?? [];
        for (const r of records) {
          const arrivalMs = r.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
          const seq = r.SequenceNumber ?? '';
          this.#lastRead = seq;
          if (this.#skipBeforeMs !== undefined && arrivalMs < this.#skipBeforeMs) continue;
          this.#skipBeforeMs = undefined;
          const record: PolledRecord = {
            sequenceNumber: seq,
            partitionKey: r.PartitionKey ?? '',
            data: r.Data ?? new Uint8Array(),
            arrivalMs,
          };
          const size = o.sizeOf(record);
          this.#buffer.push(record);
          this.#sizes.push(size);
          this.#bufferBytes += size;
        }
        this.#iterator = out.NextShardIterator;
        if (this.#iterator === undefined) this.#ended = true;
        o.onPage(out.MillisBehindLatest ?? null);
        return { raw: records.length, millisBehind: out.MillisBehindLatest };
      } catch (err) {
        if (err instanceof ExpiredIteratorException || (err as Error).name === 'ExpiredIteratorException') {
          await this.open();
          continue;
        }
        o.log(`${o.shardId}: GetRecords failed: ${errorMessage(err)}`);
        await sleep(Math.min(30_000, 200 * 2 ** attempt), o.signal);
      }
    }
    return undefined;
  }
}
