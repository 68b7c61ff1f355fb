/**
 * The Kinesis source of a delivery stream: its own consumer of the stream (GetRecords per shard per poll),
 * re-listing shards so split/merge children are read after their parents end, deaggregating KPL records,
 * and keeping per-shard checkpoints in a JSON file so a restart resumes.
 *
 * Starting position: like AWS, a new delivery stream starts at LATEST. A shard without a checkpoint after a
 * restart is read from TRIM_HORIZON, skipping records that arrived before the delivery stream was created
 * (AT_TIMESTAMP would do, but kinesalite hangs on it when no record matches).
 *
 * Checkpoints advance only after a batch is delivered (at-least-once): records read but not delivered when
 * the process dies are read again; a KPL aggregate split across two objects is checkpointed only once all
 * its user records are delivered.
 */

import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { listShards } from '../private/kinesis.ts';
import { writeJsonAtomic } from '../private/state.ts';
import type { BufferedRecord } from './buffer.ts';

/** Persisted state of one shard. */
export interface ShardCheckpoint {
  /** Last sequence number fully delivered, or `null`. */
  readonly seq: string | null;
  /** The shard ended and everything read from it is delivered. */
  readonly ended: boolean;
}

/** The checkpoint file. */
export interface CheckpointFile {
  readonly version: 1;
  readonly streamName: string;
  /** When the delivery stream was first created, epoch ms. */
  readonly createdAtMs: number;
  readonly shards: Readonly<Record<string, ShardCheckpoint>>;
}

interface ShardState {
  iterator: string | null;
  /** Last sequence number read (in memory). */
  readSeq: string | null;
  /** Last sequence number whose user records are all delivered. */
  deliveredSeq: string | null;
  readEnded: boolean;
  persistedEnded: boolean;
  pending: number;
  atTip: boolean;
  /** Skip records that arrived before this (TRIM_HORIZON after restart), epoch ms. */
  minArrivalMs: number | null;
}

export interface KinesisSourceOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly checkpointPath: string;
  readonly onRecords: (records: readonly BufferedRecord[]) => void;
  readonly log: (line: string) => void;
  /** Records per GetRecords call. @default 10000 */
  readonly limit?: number;
}

const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);

interface UserRecordV2 {
  readonly data: string;
  readonly subSequenceNumber?: number;
}
interface AggModule {
  deaggregate(
    record: { data: string; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    perRecord: (err: Error | null, record?: UserRecordV2) => void,
    after: (err?: Error) => void,
  ): void;
}
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as AggModule;

/** Splits a Kinesis record into its user records: KPL aggregates are deaggregated, others pass through. */
export function deaggregate(
  data: Uint8Array,
  partitionKey: string,
  sequenceNumber: string,
): { data: Uint8Array; subSequenceNumber: number | null }[] {
  const bytes = Buffer.from(data);
  // As the processor decides (decode.ts): an aggregate is longer than its magic and checksum (20 bytes).
  if (bytes.byteLength <= 20 || !bytes.subarray(0, 4).equals(KPL_MAGIC))
    return [{ data, subSequenceNumber: null }];
  const out: { data: Uint8Array; subSequenceNumber: number | null }[] = [];
  let failed = false;
  agg.deaggregate(
    { data: bytes.toString('base64'), partitionKey, sequenceNumber },
    true,
    (err, record) => {
      if (err || !record) failed = true;
      else
        out.push({
          data: Buffer.from(record.data, 'base64'),
          subSequenceNumber: record.subSequenceNumber ?? out.length,
        });
    },
    (err) => {
      if (err) failed = true;
    },
  );
  // An invalid aggregate (bad checksum or protobuf), or one holding no user record, passes through whole
  // like a plain record: archived once, never dropped.
  return failed || out.length === 0 ? [{ data, subSequenceNumber: null }] : out;
}

export class KinesisSource {
  readonly #o: KinesisSourceOptions;
  readonly #shards = new Map<string, ShardState>();
  #createdAtMs = 0;
  #firstRun = false;
  #listedOnce = false;
  #persistChain: Promise<void> = Promise.resolve();
  #pollChain: Promise<unknown> = Promise.resolve();
  recordsRead = 0;

  constructor(options: KinesisSourceOptions) {
    this.#o = options;
  }

  /** Loads (or creates) the checkpoint file. */
  async init(): Promise<void> {
    await mkdir(dirname(this.#o.checkpointPath), { recursive: true });
    let file: CheckpointFile | null = null;
    try {
      file = JSON.parse(await readFile(this.#o.checkpointPath, 'utf8')) as CheckpointFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (file === null || file.version !== 1 || file.streamName !== this.#o.streamName) {
      this.#firstRun = true;
      this.#createdAtMs = Date.now();
      await this.#persist();
      return;
    }
    this.#createdAtMs = file.createdAtMs;
    for (const [id, cp] of Object.entries(file.shards)) {
      this.#shards.set(id, {
        iterator: null,
        readSeq: cp.seq,
        deliveredSeq: cp.seq,
        readEnded: cp.ended,
        persistedEnded: cp.ended,
        pending: 0,
        atTip: cp.ended,
        minArrivalMs: cp.seq === null ? file.createdAtMs : null,
      });
    }
  }

  /** When the delivery stream was created, epoch ms. */
  get createdAtMs(): number {
    return this.#createdAtMs;
  }

  /** One poll: re-list shards, one GetRecords per readable shard. Serialized with other polls. */
  poll(): Promise<{ readonly atTip: boolean; readonly fullPage: boolean }> {
    const run = this.#pollChain.then(() => this.#poll());
    this.#pollChain = run.catch(() => undefined);
    return run;
  }

  /** Called after a batch is delivered: advances and persists checkpoints. */
  async delivered(records: readonly BufferedRecord[]): Promise<void> {
    let changed = false;
    for (const r of records) {
      if (r.shardId === null) continue;
      const s = this.#shards.get(r.shardId);
      if (!s) continue;
      s.pending--;
      if (r.completesSequence && r.sequenceNumber !== null) {
        s.deliveredSeq = r.sequenceNumber;
        changed = true;
      }
    }
    for (const s of this.#shards.values()) {
      if (s.readEnded && !s.persistedEnded && s.pending === 0) {
        s.persistedEnded = true;
        changed = true;
      }
    }
    if (changed) await this.#persist();
  }

  /** Waits for checkpoint writes in flight. */
  settled(): Promise<void> {
    return this.#persistChain;
  }

  async #poll(): Promise<{ atTip: boolean; fullPage: boolean }> {
    const shards = await this.#listShards();
    if (shards === null) return { atTip: false, fullPage: false };
    const listed = new Set(shards.map((s) => s.ShardId ?? ''));
    for (const shard of shards) {
      const id = shard.ShardId ?? '';
      if (!this.#shards.has(id)) {
        const latest = this.#firstRun && !this.#listedOnce;
        this.#shards.set(id, {
          iterator: null,
          readSeq: null,
          deliveredSeq: null,
          readEnded: false,
          persistedEnded: false,
          pending: 0,
          atTip: false,
          minArrivalMs: latest ? null : this.#createdAtMs,
        });
        if (latest) {
          try {
            await this.#startLatest(id);
          } catch (e) {
            // Fall back to TRIM_HORIZON filtered by creation time: the same records.
            this.#shards.get(id)!.minArrivalMs = this.#createdAtMs;
            this.#o.log(
              `firehose source ${this.#o.streamName}/${id}: LATEST iterator failed: ${(e as Error).message}`,
            );
          }
        }
      }
    }
    this.#listedOnce = true;
    let fullPage = false;
    for (const shard of shards) {
      const id = shard.ShardId ?? '';
      const state = this.#shards.get(id);
      if (!state || state.readEnded) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p);
      const blocked = parents.some((p) => listed.has(p) && !this.#shards.get(p)?.readEnded);
      if (blocked) continue;
      try {
        if (await this.#read(id, state)) fullPage = true;
      } catch (e) {
        this.#o.log(
          `firehose source ${this.#o.streamName}/${id}: GetRecords failed: ${(e as Error).message}`,
        );
        state.atTip = false;
      }
    }
    const atTip = shards.every((s) => {
      const st = this.#shards.get(s.ShardId ?? '');
      return st !== undefined && (st.readEnded || st.atTip);
    });
    return { atTip, fullPage };
  }

  async #listShards(): Promise<Shard[] | null> {
    try {
      return await listShards(this.#o.client, this.#o.streamName);
    } catch (e) {
      this.#o.log(`firehose source ${this.#o.streamName}: ListShards failed: ${(e as Error).message}`);
      return null;
    }
  }

  async #startLatest(shardId: string): Promise<void> {
    const state = this.#shards.get(shardId);
    if (!state) return;
    const res = await this.#o.client.send(
      new GetShardIteratorCommand({
        StreamName: this.#o.streamName,
        ShardId: shardId,
        ShardIteratorType: 'LATEST',
      }),
    );
    state.iterator = res.ShardIterator ?? null;
  }

  async #iterator(shardId: string, state: ShardState): Promise<string | null> {
    if (state.iterator) return state.iterator;
    const res = await this.#o.client.send(
      new GetShardIteratorCommand(
        state.readSeq === null
          ? { StreamName: this.#o.streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }
          : {
              StreamName: this.#o.streamName,
              ShardId: shardId,
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
              StartingSequenceNumber: state.readSeq,
            },
      ),
    );
    state.iterator = res.ShardIterator ?? null;
    return state.iterator;
  }

  /** Reads one page; returns whether the page was full (more may follow immediately). */
  async #read(shardId: string, state: ShardState): Promise<boolean> {
    const iterator = await this.#iterator(shardId, state);
    if (iterator === null) {
      this.#end(state);
      return false;
    }
    const limit = this.#o.limit ?? 10_000;
    let res: GetRecordsCommandOutput;
    try {
      res = await this.#o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    } catch (e) {
      if (e instanceof ExpiredIteratorException) {
        state.iterator = null;
        return true;
      }
      throw e;
    }
    const records = res.Records ?? [];
    const out: BufferedRecord[] = [];
    for (const record of records) {
      const seq = record.SequenceNumber ?? '';
      const arrivalMs = record.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
      state.readSeq = seq;
      if (state.minArrivalMs !== null && arrivalMs < state.minArrivalMs) continue;
      const users = deaggregate(record.Data ?? new Uint8Array(), record.PartitionKey ?? '', seq);
      users.forEach((u, i) => {
        out.push({
          data: u.data,
          arrivalMs,
          shardId,
          sequenceNumber: seq,
          subSequenceNumber: u.subSequenceNumber,
          completesSequence: i === users.length - 1,
        });
      });
    }
    state.pending += out.length;
    this.recordsRead += out.length;
    if (records.length > 0 && out.length === 0 && state.pending === 0) state.deliveredSeq = state.readSeq;
    state.iterator = res.NextShardIterator ?? null;
    state.atTip = records.length < limit && (res.MillisBehindLatest ?? 0) === 0;
    if (out.length > 0) this.#o.onRecords(out);
    if (state.iterator === null) this.#end(state);
    return records.length >= limit;
  }

  #end(state: ShardState): void {
    state.readEnded = true;
    state.atTip = true;
    if (state.pending === 0 && !state.persistedEnded) {
      state.persistedEnded = true;
      void this.#persist();
    }
  }

  #persist(): Promise<void> {
    const file: CheckpointFile = {
      version: 1,
      streamName: this.#o.streamName,
      createdAtMs: this.#createdAtMs,
      shards: Object.fromEntries(
        [...this.#shards].map(([id, s]) => [id, { seq: s.deliveredSeq, ended: s.persistedEnded }]),
      ),
    };
    const path = this.#o.checkpointPath;
    const run = this.#persistChain.then(() => writeJsonAtomic(path, file));
    this.#persistChain = run.catch((e: unknown) => {
      this.#o.log(`firehose source ${this.#o.streamName}: checkpoint write failed: ${(e as Error).message}`);
    });
    return this.#persistChain;
  }
}
