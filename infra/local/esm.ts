/**
 * A faithful local Lambda event source mapping for Kinesis: one poller per shard, micro-batches capped by
 * BatchSize, the batching window and the 6 MB payload, checkpoints that advance only on success,
 * ReportBatchItemFailures, retries, bisect, record age, OnFailure records, function timeouts that leave
 * zombies running, and resharding (parents before children).
 *
 * This file holds the mapping (shard discovery, drain, stop); `esm/reader.ts` reads a shard into batches,
 * `esm/poller.ts` invokes the function with them and checkpoints, `esm/policy.ts` decides what follows each
 * outcome, and `esm/options.ts` validates the options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Shard } from '@aws-sdk/client-kinesis';
import {
  DrainTimeoutError,
  type EventSourceMappingOptions,
  errorMessage,
  type PollerHost,
  type ResolvedMappingOptions,
  resolveOptions,
  sleep,
} from './esm/options.ts';
import { ShardPoller } from './esm/poller.ts';
import type { StartPosition } from './esm/reader.ts';
import type { ShardStats } from './esm/stats.ts';
import { onFailureKey } from './private/event.ts';
import { listShards } from './private/kinesis.ts';
import { type MappingState, StateStore } from './private/state.ts';

export {
  DrainTimeoutError,
  type EventSourceMappingOptions,
  type KinesisHandler,
  type ResolvedMappingOptions,
} from './esm/options.ts';
export {
  type Decision,
  decide,
  type FailureSettings,
  type InvokeOutcome,
  type Piece,
} from './esm/policy.ts';
export type { ShardStats } from './esm/stats.ts';

/**
 * A local Lambda event source mapping over one Kinesis stream.
 *
 * @example
 * ```ts
 * const esm = await EventSourceMapping.start({
 *   eventSource: config.eventSource, streamName, streamArn, kinesis: kinesisClient(cloud.clientOptions('kinesis')), handler,
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
  readonly #resolved: ResolvedMappingOptions;
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

  /** The options with their defaults applied. */
  get resolved(): ResolvedMappingOptions {
    return this.#resolved;
  }

  #log(line: string): void {
    this.options.log?.(`[esm] ${line}`);
  }

  /** What each shard poller is handed: the options, the stop signal and the mapping's few services. */
  #host(): PollerHost {
    return {
      options: this.options,
      resolved: this.#resolved,
      signal: this.#abort.signal,
      log: (line) => this.#log(line),
      shardEnded: () => this.#wakeDiscovery(),
      writeOnFailure: (shardId, body) => this.#writeOnFailure(shardId, body),
    };
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
      const poller = new ShardPoller(this.#host(), shard, this.#store, this.#startPosition(id));
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
      .catch((err: unknown) => this.#log(`ListShards failed: ${errorMessage(err)}`))
      .finally(() => {
        this.#discovering = undefined;
      });
    return this.#discovering;
  }

  /** Asks the discovery loop to re-list soon (a shard ended). */
  #wakeDiscovery(): void {
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
  /**
   * Ends every shard's open tumbling window now (its final invocation, `isWindowTerminatedEarly`), once the
   * batches in line are done: what the windows carried gets written. No-op without tumbling windows.
   */
  async closeWindows(): Promise<void> {
    await Promise.all([...this.#pollers.values()].map((p) => p.closeWindow()));
  }

  async drain(options: { timeoutMs?: number; closeWindows?: boolean } = {}): Promise<void> {
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
    if (options.closeWindows) await this.closeWindows();
  }

  /** Stops polling and waits for in-flight invocations (zombies from timeouts are not awaited). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#discoveryLoop;
    await this.#discovering;
    await Promise.all([...this.#pollers.values()].map((p) => p.done));
  }

  /** Writes an OnFailure record into the on-failure folder (S3 destination layout). */
  #writeOnFailure(shardId: string, body: unknown): string | undefined {
    const dir = this.options.onFailureDir;
    if (dir === undefined) return undefined;
    const path = join(dir, onFailureKey(this.uuid, shardId, Date.now()));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(body));
    return path;
  }
}
