/**
 * A faithful local Lambda event source mapping for Kinesis (see shared/design/aws-semantics.md §1):
 * one poller per shard, micro-batches capped by BatchSize, the batching window and the 6 MB payload,
 * checkpoints that advance only on success, ReportBatchItemFailures, retries, bisect, record age,
 * OnFailure records, function timeouts that leave zombies running, and resharding (parents before children).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import type { ResolvedConfig } from '../../common/config.ts';
import { ConfigError, ShardlineError } from '../../common/errors.ts';
import {
  EVENT_OVERHEAD_BYTES,
  lambdaContext,
  type OnFailureCondition,
  onFailureKey,
  onFailureMessage,
  type PolledRecord,
  parseBatchResponse,
  parseFunctionArn,
  payloadSizer,
  type RecordOrigin,
  toLambdaEvent,
} from './private/event.ts';
import { listShards } from './private/kinesis.ts';
import { type MappingState, StateStore } from './private/state.ts';

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

/** Per-shard counters and position. */
export interface ShardStats {
  shardId: string;
  parentShardId?: string;
  /** Invocations started (retries included). */
  invocations: number;
  /** Records handed to the function (redeliveries included). */
  recordsDelivered: number;
  batchesSucceeded: number;
  /** Records past the checkpoint: delivered successfully or discarded to OnFailure (each counted once). */
  recordsCheckpointed: number;
  /** Epoch ms of the last checkpoint advance, or null before the first. */
  lastCheckpointAt: number | null;
  /** Invocations that threw or timed out. */
  functionErrors: number;
  /** Of those, timeouts (the invocation keeps running as a zombie). */
  timeouts: number;
  /** Invocations whose response reported failed items (or was malformed: a whole-batch failure). */
  partialFailures: number;
  /** Re-invocations of a failed batch (bisect halves excluded). */
  retries: number;
  bisects: number;
  /** Batches discarded to the OnFailure destination. */
  onFailure: number;
  checkpoint: string | null;
  millisBehindLatest: number | null;
  closed: boolean;
}

interface Piece {
  records: PolledRecord[];
  /** Re-invocations of this piece so far (approximateInvokeCount - 1). */
  retries: number;
  /** Already delivered a second time by the `duplicateDelivery` hook. */
  duplicated?: boolean;
}

type InvokeOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; index: number }
  | { kind: 'invalid'; reason: string }
  | { kind: 'error'; message: string; timeout: boolean };

interface Resolved {
  pollIntervalMs: number;
  shardDiscoveryIntervalMs: number;
  retryBackoffMs: number;
  maxPayloadBytes: number;
  clock: () => number;
  invokeIdentityArn: string;
}

function intOption(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `EventSourceMapping ${name} must be an integer between ${min} and ${max}; received ${value}`,
    );
  }
  return value;
}

function resolveOptions(o: EventSourceMappingOptions): Resolved {
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

/** Sleeps, waking early when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * A local Lambda event source mapping over one Kinesis stream.
 *
 * @example
 * ```ts
 * const esm = await EventSourceMapping.start({
 *   eventSource: config.eventSource, streamName, streamArn, kinesis: kinesisClient(), handler,
 *   stateDir: '.shardline/esm', region: 'us-east-1',
 *   functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shardline-processor',
 *   onFailureDir: '.shardline/onfailure',
 * });
 * await esm.drain({ timeoutMs: 30_000 });
 * await esm.stop();
 * ```
 */
export class EventSourceMapping {
  readonly options: EventSourceMappingOptions;
  readonly #resolved: Resolved;
  readonly #store: StateStore;
  readonly #pollers = new Map<string, ShardPoller>();
  readonly #abort = new AbortController();
  #mapping!: MappingState;
  #discoveryLoop: Promise<void> | undefined;
  #discovering: Promise<void> | undefined;
  #wake: AbortController = new AbortController();
  /** The mapping was created by this process (not resumed from the state dir). */
  #fresh = false;

  private constructor(options: EventSourceMappingOptions) {
    this.options = options;
    this.#resolved = resolveOptions(options);
    this.#store = new StateStore(options.stateDir);
  }

  /** Validates the options, lists the shards, gets their first iterators and starts polling. */
  static async start(options: EventSourceMappingOptions): Promise<EventSourceMapping> {
    const esm = new EventSourceMapping(options);
    await esm.#start();
    return esm;
  }

  /** The mapping's UUID (stable across restarts with the same state dir). */
  get uuid(): string {
    return this.#mapping.uuid;
  }

  get resolved(): Readonly<Resolved> {
    return this.#resolved;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  log(line: string): void {
    this.options.log?.(`[esm] ${line}`);
  }

  async #start(): Promise<void> {
    const shards = await this.#listShards();
    const existing = this.#store.readMapping();
    this.#mapping = existing ?? {
      uuid: crypto.randomUUID(),
      createdAt: Date.now(),
      initialShards: shards.map((s) => s.ShardId ?? ''),
    };
    this.#fresh = existing === undefined;
    if (this.#fresh) this.#store.writeMapping(this.#mapping);
    const started = this.#adopt(shards);
    await Promise.all(started.map((p) => p.ready));
    this.#discoveryLoop = this.#discoverLoop();
  }

  #listShards(): Promise<Shard[]> {
    return listShards(this.options.kinesis, this.options.streamName);
  }

  /** Creates pollers for shards not seen yet; returns them. */
  #adopt(shards: readonly Shard[]): ShardPoller[] {
    const created: ShardPoller[] = [];
    for (const shard of shards) {
      const id = shard.ShardId;
      if (id === undefined || this.#pollers.has(id)) continue;
      const poller = new ShardPoller(this, shard, this.#store, this.#startPosition(id));
      this.#pollers.set(id, poller);
      created.push(poller);
    }
    for (const p of created) p.run((id) => this.#pollers.get(id));
    return created;
  }

  #startPosition(shardId: string): StartPosition {
    const es = this.options.eventSource;
    if (!this.#mapping.initialShards.includes(shardId)) return { type: 'TRIM_HORIZON' };
    if (es.startingPosition === 'TRIM_HORIZON') return { type: 'TRIM_HORIZON' };
    if (es.startingPosition === 'AT_TIMESTAMP')
      return { type: 'AT_TIMESTAMP', ms: (es.startingPositionTimestamp ?? 0) * 1000 };
    // LATEST: at the mapping's creation; on a restart before the first checkpoint, resume from that instant.
    return this.#fresh ? { type: 'LATEST' } : { type: 'AT_TIMESTAMP', ms: this.#mapping.createdAt };
  }

  /** Re-lists shards now (also run every `shardDiscoveryIntervalMs` and whenever a shard ends). */
  discover(): Promise<void> {
    this.#discovering ??= this.#listShards()
      .then((shards) => {
        this.#adopt(shards);
      })
      .catch((err: unknown) => this.log(`ListShards failed: ${errorMessage(err)}`))
      .finally(() => {
        this.#discovering = undefined;
      });
    return this.#discovering;
  }

  /** Asks the discovery loop to re-list soon (a shard ended). */
  wakeDiscovery(): void {
    this.#wake.abort();
  }

  async #discoverLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      await sleep(this.#resolved.shardDiscoveryIntervalMs, AbortSignal.any([signal, this.#wake.signal]));
      this.#wake = new AbortController();
      if (signal.aborted) break;
      await this.discover();
    }
  }

  /** Per shard counters, by shard id. */
  stats(): ShardStats[] {
    return [...this.#pollers.values()]
      .map((p) => p.snapshot())
      .sort((a, b) => a.shardId.localeCompare(b.shardId));
  }

  /**
   * Resolves when every shard has delivered and checkpointed everything the stream held when this was called:
   * each shard read an empty page at the tip (MillisBehindLatest 0) after its last success, or is closed and
   * fully read. Waits as long as it takes; see {@link drain} for a deadline.
   */
  async caughtUp(signal?: AbortSignal): Promise<void> {
    const since = Date.now();
    await this.discover();
    while (!this.#abort.signal.aborted && !signal?.aborted) {
      if (this.#behind(since).length === 0) return;
      await sleep(10, AbortSignal.any([this.#abort.signal, ...(signal ? [signal] : [])]));
    }
  }

  #behind(since: number): string[] {
    return [...this.#pollers.values()].filter((p) => !p.caughtUpSince(since)).map((p) => p.describe());
  }

  /** {@link caughtUp} with a deadline: throws {@link DrainTimeoutError} naming the shards still behind. */
  async drain(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const since = Date.now();
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(), timeoutMs);
    try {
      await this.caughtUp(timer.signal);
    } finally {
      clearTimeout(t);
    }
    const behind = this.#behind(since);
    if (behind.length > 0 && !this.#abort.signal.aborted) {
      throw new DrainTimeoutError(
        `event source mapping did not catch up within ${timeoutMs} ms: ${behind.join('; ')}`,
      );
    }
  }

  /** Stops polling and waits for in-flight invocations (zombies from timeouts are not awaited). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#discoveryLoop;
    await this.#discovering;
    await Promise.all([...this.#pollers.values()].map((p) => p.done));
  }

  /** Writes an OnFailure record into the on-failure folder (S3 destination layout). */
  writeOnFailure(shardId: string, body: unknown): string | undefined {
    const dir = this.options.onFailureDir;
    if (dir === undefined) return undefined;
    const path = join(dir, onFailureKey(this.uuid, shardId, Date.now()));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(body));
    return path;
  }
}

type StartPosition = { type: 'TRIM_HORIZON' } | { type: 'LATEST' } | { type: 'AT_TIMESTAMP'; ms: number };

/** Reads one shard and invokes the function with its batches, strictly in order. */
class ShardPoller {
  readonly #esm: EventSourceMapping;
  readonly #store: StateStore;
  readonly #shardId: string;
  readonly #parents: string[];
  readonly #origin: RecordOrigin;
  readonly #start: StartPosition;
  #iterator: string | undefined;
  /** Records read but not yet invoked. */
  #buffer: PolledRecord[] = [];
  /** Payload bytes of each buffered record (parallel to `#buffer`), and their sum. */
  #sizes: number[] = [];
  #bufferBytes = 0;
  readonly #sizeOf: (record: PolledRecord) => number;
  /** Batches invoked at least once and not yet settled (a bisect makes two). */
  #pieces: Piece[] = [];
  #lastRead: string | null = null;
  #ended = false;
  #finished = false;
  /** Start time of the last empty read at the tip with nothing pending. */
  #tipAt = Number.NEGATIVE_INFINITY;
  /** Records older than this are skipped (AT_TIMESTAMP emulated over TRIM_HORIZON). */
  #skipBeforeMs: number | undefined;
  #stats: ShardStats;
  #resolveReady!: () => void;
  #resolveFinished!: () => void;
  readonly ready: Promise<void>;
  readonly finished: Promise<void>;
  done: Promise<void> = Promise.resolve();

  constructor(esm: EventSourceMapping, shard: Shard, store: StateStore, start: StartPosition) {
    this.#esm = esm;
    this.#store = store;
    this.#shardId = shard.ShardId ?? '';
    this.#parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
      (p): p is string => p !== undefined,
    );
    this.#start = start;
    const o = esm.options;
    this.#origin = {
      shardId: this.#shardId,
      streamArn: o.streamArn,
      region: o.region,
      invokeIdentityArn: esm.resolved.invokeIdentityArn,
    };
    this.#sizeOf = payloadSizer(this.#origin);
    const saved = store.readShard(this.#shardId);
    this.#finished = saved?.finished ?? false;
    this.#lastRead = saved?.sequenceNumber ?? null;
    this.#stats = {
      shardId: this.#shardId,
      ...(shard.ParentShardId === undefined ? {} : { parentShardId: shard.ParentShardId }),
      invocations: 0,
      recordsDelivered: 0,
      batchesSucceeded: 0,
      recordsCheckpointed: 0,
      lastCheckpointAt: null,
      functionErrors: 0,
      timeouts: 0,
      partialFailures: 0,
      retries: 0,
      bisects: 0,
      onFailure: 0,
      checkpoint: saved?.sequenceNumber ?? null,
      millisBehindLatest: null,
      closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
    };
    this.ready = new Promise((r) => {
      this.#resolveReady = r;
    });
    this.finished = new Promise((r) => {
      this.#resolveFinished = r;
    });
    if (this.#finished) {
      this.#resolveReady();
      this.#resolveFinished();
    }
  }

  snapshot(): ShardStats {
    return { ...this.#stats };
  }

  describe(): string {
    const s = this.#stats;
    const state = this.#finished
      ? 'finished'
      : this.#pieces.length > 0
        ? `retrying ${this.#pieces.length} piece(s)`
        : 'reading';
    return `${s.shardId} (${state}, checkpoint ${s.checkpoint ?? 'none'})`;
  }

  caughtUpSince(since: number): boolean {
    return this.#finished || this.#tipAt >= since;
  }

  run(lookup: (id: string) => ShardPoller | undefined): void {
    if (this.#finished) return;
    this.done = this.#run(lookup).catch((err: unknown) => {
      this.#esm.log(`${this.#shardId}: poller stopped on an unexpected error: ${errorMessage(err)}`);
    });
  }

  get #signal(): AbortSignal {
    return this.#esm.signal;
  }

  async #run(lookup: (id: string) => ShardPoller | undefined): Promise<void> {
    const parents = this.#parents.map(lookup).filter((p): p is ShardPoller => p !== undefined);
    if (parents.length > 0) {
      this.#resolveReady(); // children are ready once parents finish; do not hold up start()
      await Promise.race([Promise.all(parents.map((p) => p.finished)), sleepForever(this.#signal)]);
      if (this.#signal.aborted) return;
      this.#esm.log(`${this.#shardId}: parents ${this.#parents.join(', ')} done; starting`);
    }
    await this.#openIterator();
    this.#resolveReady();
    const idle = this.#esm.resolved.pollIntervalMs;
    while (!this.#signal.aborted) {
      const piece = this.#pieces[0];
      if (piece !== undefined) {
        await this.#process(piece);
        continue;
      }
      const batch = await this.#gather();
      if (batch.length > 0) {
        this.#pieces.push({ records: batch, retries: 0 });
        continue;
      }
      if (this.#ended && this.#buffer.length === 0) {
        this.#finish();
        return;
      }
      await sleep(idle, this.#signal);
    }
  }

  #finish(): void {
    this.#finished = true;
    this.#stats.closed = true;
    this.#store.writeShard({
      shardId: this.#shardId,
      sequenceNumber: this.#stats.checkpoint,
      finished: true,
      updatedAt: new Date().toISOString(),
    });
    this.#esm.log(`${this.#shardId}: closed shard read to its end`);
    this.#resolveFinished();
    this.#esm.wakeDiscovery();
  }

  async #openIterator(): Promise<void> {
    const base = { StreamName: this.#esm.options.streamName, ShardId: this.#shardId };
    let input: GetShardIteratorCommandInput;
    if (this.#lastRead !== null) {
      input = { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.#lastRead };
    } else if (this.#start.type === 'LATEST') {
      input = { ...base, ShardIteratorType: 'LATEST' };
    } else {
      // AT_TIMESTAMP reads from TRIM_HORIZON and skips older records: the same records on every backend, and
      // kinesalite never answers an AT_TIMESTAMP request that matches no record.
      if (this.#start.type === 'AT_TIMESTAMP') this.#skipBeforeMs = this.#start.ms;
      input = { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    }
    for (let attempt = 0; !this.#signal.aborted; attempt++) {
      try {
        const out = await this.#esm.options.kinesis.send(new GetShardIteratorCommand(input));
        this.#iterator = out.ShardIterator;
        if (this.#iterator === undefined) this.#ended = true;
        return;
      } catch (err) {
        this.#esm.log(`${this.#shardId}: GetShardIterator failed: ${errorMessage(err)}`);
        await sleep(Math.min(30_000, 200 * 2 ** attempt), this.#signal);
      }
    }
  }

  /** Reads until a batch is ready (size, window or payload cap) and returns it; empty when idle or ended. */
  async #gather(): Promise<PolledRecord[]> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.#esm.options.eventSource;
    const windowMs = maximumBatchingWindowInSeconds * 1000;
    let deadline = this.#buffer.length > 0 ? Date.now() + windowMs : undefined;
    while (!this.#signal.aborted) {
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
      await sleep(Math.min(this.#esm.resolved.pollIntervalMs, deadline - Date.now()), this.#signal);
    }
    return [];
  }

  /** Takes the next batch off the buffer: a full one only, unless `any`. */
  #take(any: boolean): PolledRecord[] {
    const { batchSize } = this.#esm.options.eventSource;
    const cap = this.#esm.resolved.maxPayloadBytes;
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
    for (let attempt = 0; !this.#signal.aborted; attempt++) {
      try {
        const out = await this.#esm.options.kinesis.send(
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
          const size = this.#sizeOf(record);
          this.#buffer.push(record);
          this.#sizes.push(size);
          this.#bufferBytes += size;
        }
        this.#iterator = out.NextShardIterator;
        if (this.#iterator === undefined) this.#ended = true;
        this.#stats.millisBehindLatest = out.MillisBehindLatest ?? null;
        return { raw: records.length, millisBehind: out.MillisBehindLatest };
      } catch (err) {
        if (err instanceof ExpiredIteratorException || (err as Error).name === 'ExpiredIteratorException') {
          await this.#openIterator();
          continue;
        }
        this.#esm.log(`${this.#shardId}: GetRecords failed: ${errorMessage(err)}`);
        await sleep(Math.min(30_000, 200 * 2 ** attempt), this.#signal);
      }
    }
    return undefined;
  }

  async #process(piece: Piece): Promise<void> {
    const { records } = piece;
    const es = this.#esm.options.eventSource;
    const timeoutMs = es.functionTimeoutSeconds * 1000;
    const context = lambdaContext({ functionArn: this.#esm.options.functionArn, timeoutMs });
    this.#stats.invocations++;
    this.#stats.recordsDelivered += records.length;
    const outcome = await this.#invoke(toLambdaEvent(records, this.#origin), context, timeoutMs, records);
    const requestId = context.awsRequestId;
    switch (outcome.kind) {
      case 'success':
        if (!piece.duplicated && this.#esm.options.duplicateDelivery?.(this.#shardId, records.length)) {
          piece.duplicated = true; // stays first in line: delivered again, then checkpointed
          return;
        }
        this.#settle(records);
        this.#stats.batchesSucceeded++;
        return;
      case 'partial': {
        this.#stats.partialFailures++;
        const done = records.slice(0, outcome.index);
        if (done.length > 0) this.#checkpoint(done[done.length - 1]?.sequenceNumber ?? null, done.length);
        this.#esm.log(
          `${this.#shardId}: ${records.length - outcome.index} of ${records.length} records failed`,
        );
        await this.#retryOrDiscard(
          { records: records.slice(outcome.index), retries: piece.retries },
          requestId,
          false,
          false,
        );
        return;
      }
      case 'invalid':
        this.#stats.partialFailures++;
        this.#esm.log(`${this.#shardId}: whole batch failed: ${outcome.reason}`);
        await this.#retryOrDiscard(piece, requestId, false, true);
        return;
      case 'error':
        this.#stats.functionErrors++;
        if (outcome.timeout) this.#stats.timeouts++;
        this.#esm.log(`${this.#shardId}: function error on ${records.length} records: ${outcome.message}`);
        await this.#retryOrDiscard(piece, requestId, true, true);
        return;
    }
  }

  async #invoke(
    event: KinesisStreamEvent,
    context: Context,
    timeoutMs: number,
    records: PolledRecord[],
  ): Promise<InvokeOutcome> {
    const invocation = Promise.resolve().then(() => this.#esm.options.handler(event, context));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([invocation.then((value) => ({ value })), timedOut]);
      if (result === 'timeout') {
        invocation.catch(() => undefined); // the zombie keeps running; its outcome is ignored
        return { kind: 'error', message: `Task timed out after ${timeoutMs / 1000} seconds`, timeout: true };
      }
      if (!this.#esm.options.eventSource.reportBatchItemFailures) return { kind: 'success' };
      return parseBatchResponse(
        result.value,
        records.map((r) => r.sequenceNumber),
      );
    } catch (err) {
      return { kind: 'error', message: errorMessage(err), timeout: false };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * After a failure of `piece` (now holding only the failed records): discard for age, bisect, discard for
   * exhausted retries, or retry after a backoff, in that order. `canBisect` is false for a partial failure,
   * which already split the batch at the failed record.
   */
  async #retryOrDiscard(
    piece: Piece,
    requestId: string,
    functionError: boolean,
    canBisect: boolean,
  ): Promise<void> {
    const es = this.#esm.options.eventSource;
    const oldest = piece.records[0];
    if (oldest === undefined) return;
    const now = this.#esm.resolved.clock();
    if (es.maximumRecordAgeInSeconds !== -1 && now - oldest.arrivalMs > es.maximumRecordAgeInSeconds * 1000) {
      this.#discard(piece, 'RecordAgeExceeded', requestId, functionError);
      return;
    }
    if (canBisect && es.bisectBatchOnFunctionError && piece.records.length > 1) {
      const mid = Math.ceil(piece.records.length / 2);
      this.#pieces.splice(
        0,
        1,
        { records: piece.records.slice(0, mid), retries: piece.retries },
        { records: piece.records.slice(mid), retries: piece.retries },
      );
      this.#stats.bisects++;
      return;
    }
    if (es.maximumRetryAttempts !== -1 && piece.retries >= es.maximumRetryAttempts) {
      this.#discard(piece, 'RetryAttemptsExhausted', requestId, functionError);
      return;
    }
    this.#pieces.splice(0, 1, { records: piece.records, retries: piece.retries + 1 });
    this.#stats.retries++;
    await sleep(Math.min(30_000, this.#esm.resolved.retryBackoffMs * 2 ** piece.retries), this.#signal);
  }

  #discard(piece: Piece, condition: OnFailureCondition, requestId: string, functionError: boolean): void {
    const message = onFailureMessage({
      requestId,
      functionArn: this.#esm.options.functionArn,
      condition,
      approximateInvokeCount: piece.retries + 1,
      functionError,
      records: piece.records,
      origin: this.#origin,
      now: Date.now(),
    });
    const path = this.#esm.writeOnFailure(this.#shardId, message);
    this.#esm.log(
      `${this.#shardId}: discarded ${piece.records.length} records (${condition})${path === undefined ? '' : ` -> ${path}`}`,
    );
    this.#stats.onFailure++;
    this.#settle(piece.records);
  }

  /** The first piece is done (succeeded or discarded): drop it and checkpoint its last record. */
  #settle(records: readonly PolledRecord[]): void {
    this.#pieces.shift();
    this.#checkpoint(records[records.length - 1]?.sequenceNumber ?? null, records.length);
  }

  #checkpoint(sequenceNumber: string | null, records: number): void {
    if (sequenceNumber === null) return;
    this.#stats.checkpoint = sequenceNumber;
    this.#stats.recordsCheckpointed += records;
    this.#stats.lastCheckpointAt = Date.now();
    this.#store.writeShard({
      shardId: this.#shardId,
      sequenceNumber,
      finished: false,
      updatedAt: new Date().toISOString(),
    });
  }
}

function sleepForever(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
