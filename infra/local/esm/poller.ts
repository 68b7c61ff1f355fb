/**
 * One shard of the event source mapping: waits for its parent shards, invokes the function with the reader's
 * batches strictly in order, applies the failure policy to each outcome, and checkpoints.
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import {
  lambdaContext,
  onFailureMessage,
  type PolledRecord,
  payloadSizer,
  type RecordOrigin,
  toLambdaEvent,
} from '../private/event.ts';
import type { OpenWindow, StateStore } from '../private/state.ts';
import { invokeFunction } from './invoke.ts';
import { errorMessage, type PollerHost, sleep, sleepForever } from './options.ts';
import { type Decision, decide, type InvokeOutcome, type Piece } from './policy.ts';
import { ShardReader, type StartPosition } from './reader.ts';
import { countOutcome, newShardStats, type ShardStats } from './stats.ts';
import { MAX_WINDOW_STATE_BYTES, splitByWindow, stateBytes, windowEvent, windowOf } from './windows.ts';

/** Reads one shard and invokes the function with its batches, strictly in order. */
export class ShardPoller {
  readonly #host: PollerHost;
  readonly #store: StateStore;
  readonly #shardId: string;
  readonly #parents: string[];
  readonly #origin: RecordOrigin;
  readonly #reader: ShardReader;
  /** Batches invoked at least once and not yet settled (a bisect makes two). */
  #pieces: Piece[] = [];
  #finished = false;
  /** Tumbling window size in seconds (0: none), the open window, and callers waiting for it to close. */
  readonly #windowSeconds: number;
  #window: OpenWindow | undefined;
  #closeRequested = false;
  #closeWaiters: (() => void)[] = [];
  /** The `state` of the last invocation's response. */
  #lastState: object | undefined;
  #stats: ShardStats;
  #resolveReady!: () => void;
  #resolveFinished!: () => void;
  readonly ready: Promise<void>;
  readonly finished: Promise<void>;
  done: Promise<void> = Promise.resolve();

  constructor(host: PollerHost, shard: Shard, store: StateStore, start: StartPosition) {
    this.#host = host;
    this.#store = store;
    this.#shardId = shard.ShardId ?? '';
    this.#parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
      (p): p is string => p !== undefined,
    );
    const o = host.options;
    this.#origin = {
      shardId: this.#shardId,
      streamArn: o.streamArn,
      region: o.region,
      invokeIdentityArn: host.resolved.invokeIdentityArn,
    };
    const saved = store.readShard(this.#shardId);
    this.#finished = saved?.finished ?? false;
    this.#windowSeconds = o.eventSource.tumblingWindowInSeconds;
    this.#window = this.#windowSeconds > 0 ? saved?.window : undefined;
    this.#stats = newShardStats(shard, saved?.sequenceNumber ?? null);
    this.#reader = new ShardReader({
      kinesis: o.kinesis,
      streamName: o.streamName,
      shardId: this.#shardId,
      start,
      lastRead: saved?.sequenceNumber ?? null,
      batchSize: o.eventSource.batchSize,
      windowMs: o.eventSource.maximumBatchingWindowInSeconds * 1000,
      pollIntervalMs: host.resolved.pollIntervalMs,
      maxPayloadBytes: host.resolved.maxPayloadBytes,
      sizeOf: payloadSizer(this.#origin),
      signal: host.signal,
      log: (line) => host.log(line),
      onPage: (millisBehind) => {
        this.#stats.millisBehindLatest = millisBehind;
      },
    });
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
    return this.#finished || this.#reader.tipAt >= since;
  }

  /**
   * Ends the open tumbling window now, as a state over 1 MB does (a final invocation with
   * `isWindowTerminatedEarly`), once the batches in line are done; resolves when no window is open.
   * Local runs use it to write what the window carried before they compare or meter.
   */
  closeWindow(): Promise<void> {
    if (this.#finished || this.#windowSeconds === 0 || this.#host.signal.aborted) return Promise.resolve();
    this.#closeRequested = true;
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  #resolveCloseWaiters(): void {
    this.#closeRequested = false;
    for (const w of this.#closeWaiters.splice(0)) w();
  }

  /** Starts the poll loop; `lookup` finds the pollers of this shard's parents. */
  run(lookup: (id: string) => ShardPoller | undefined): void {
    if (this.#finished) return;
    this.done = this.#run(lookup).catch((err: unknown) => {
      this.#host.log(`${this.#shardId}: poller stopped on an unexpected error: ${errorMessage(err)}`);
    });
  }

  async #run(lookup: (id: string) => ShardPoller | undefined): Promise<void> {
    const signal = this.#host.signal;
    const parents = this.#parents.map(lookup).filter((p): p is ShardPoller => p !== undefined);
    if (parents.length > 0) {
      this.#resolveReady(); // children are ready once parents finish; do not hold up start()
      await Promise.race([Promise.all(parents.map((p) => p.finished)), sleepForever(signal)]);
      if (signal.aborted) return;
      this.#host.log(`${this.#shardId}: parents ${this.#parents.join(', ')} done; starting`);
    }
    await this.#reader.open();
    this.#resolveReady();
    const idle = this.#host.resolved.pollIntervalMs;
    const T = this.#windowSeconds;
    while (!signal.aborted) {
      const piece = this.#pieces[0];
      if (piece !== undefined) {
        if (T > 0) {
          const w = windowOf(piece.records[0]!.arrivalMs, T);
          if (this.#window !== undefined && this.#window.start !== w.start) {
            await this.#closeOpenWindow(false);
            continue;
          }
          this.#window ??= { ...w, state: {} };
        }
        await this.#process(piece);
        continue;
      }
      if (this.#closeRequested) {
        if (this.#window !== undefined) await this.#closeOpenWindow(true);
        else this.#resolveCloseWaiters();
        continue;
      }
      const batch = await this.#reader.gather();
      if (batch.length > 0) {
        for (const part of T > 0 ? splitByWindow(batch, T) : [batch])
          this.#pieces.push({ records: part, retries: 0 });
        continue;
      }
      // The open window's end time passed, or the shard ended: its final invocation.
      if (
        this.#window !== undefined &&
        (this.#host.resolved.clock() >= this.#window.end || this.#reader.exhausted)
      ) {
        await this.#closeOpenWindow(false);
        continue;
      }
      if (this.#reader.exhausted) {
        this.#finish();
        return;
      }
      await sleep(idle, signal);
    }
    this.#resolveCloseWaiters();
  }

  /**
   * The open window's final invocation (no records, `isFinalInvokeForWindow`), retried until it succeeds:
   * Lambda holds the shard until then. Terminated early, the window goes on with a fresh state.
   */
  async #closeOpenWindow(terminatedEarly: boolean): Promise<void> {
    const window = this.#window;
    if (window === undefined) return;
    const o = this.#host.options;
    const timeoutMs = o.eventSource.functionTimeoutSeconds * 1000;
    for (let attempt = 0; !this.#host.signal.aborted; attempt++) {
      const context = lambdaContext({ functionArn: o.functionArn, timeoutMs });
      const event = windowEvent({ Records: [] }, window, this.#origin, {
        final: true,
        terminatedEarly,
      });
      this.#stats.invocations++;
      const outcome = await this.#invoke(event, context, timeoutMs, []);
      if (outcome.kind === 'success') {
        this.#stats.windowsClosed++;
        const closedEarly = terminatedEarly && !this.#closeRequested;
        this.#window = closedEarly ? { start: window.start, end: window.end, state: {} } : undefined;
        this.#saveCheckpoint();
        if (this.#closeRequested) this.#resolveCloseWaiters();
        return;
      }
      this.#count(outcome, 0);
      await sleep(Math.min(30_000, this.#host.resolved.retryBackoffMs * 2 ** attempt), this.#host.signal);
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
    this.#host.log(`${this.#shardId}: closed shard read to its end`);
    this.#resolveFinished();
    this.#host.shardEnded();
  }

  async #process(piece: Piece): Promise<void> {
    const { records } = piece;
    const o = this.#host.options;
    const es = o.eventSource;
    const timeoutMs = es.functionTimeoutSeconds * 1000;
    const context = lambdaContext({ functionArn: o.functionArn, timeoutMs });
    this.#stats.invocations++;
    this.#stats.recordsDelivered += records.length;
    const window = this.#window;
    const event =
      window === undefined
        ? toLambdaEvent(records, this.#origin)
        : windowEvent(toLambdaEvent(records, this.#origin), window, this.#origin, {
            final: false,
            terminatedEarly: false,
          });
    const outcome = await this.#invoke(event, context, timeoutMs, records);
    if (
      outcome.kind === 'success' &&
      !piece.duplicated &&
      o.duplicateDelivery?.(this.#shardId, records.length)
    ) {
      // Stays first in line: delivered again (with the state it had: the state is saved with the
      // checkpoint, which was lost), then checkpointed.
      piece.duplicated = true;
      return;
    }
    // The window's state moves on with each invocation that returned one.
    let oversized = false;
    if (window !== undefined && (outcome.kind === 'success' || outcome.kind === 'partial')) {
      const state = this.#lastState ?? {};
      this.#window = { start: window.start, end: window.end, state };
      oversized = stateBytes(state) > MAX_WINDOW_STATE_BYTES;
    }
    this.#count(outcome, records.length);
    const decision = decide(
      outcome,
      piece,
      { ...es, retryBackoffMs: this.#host.resolved.retryBackoffMs },
      this.#host.resolved.clock,
    );
    await this.#apply(decision, piece, context.awsRequestId);
    if (oversized) {
      this.#host.log(`${this.#shardId}: tumbling-window state over 1 MB: window terminated early`);
      await this.#closeOpenWindow(true);
    }
  }

  /** Counts and logs an outcome. */
  #count(outcome: InvokeOutcome, records: number): void {
    countOutcome(this.#stats, outcome, records, (line) => this.#host.log(`${this.#shardId}: ${line}`));
  }

  async #apply(decision: Decision, piece: Piece, requestId: string): Promise<void> {
    switch (decision.kind) {
      case 'checkpoint':
        this.#settle(piece.records);
        this.#stats.batchesSucceeded++;
        return;
      case 'bisect':
        this.#pieces.splice(0, 1, ...decision.pieces);
        this.#stats.bisects++;
        return;
      case 'discard':
        this.#checkpointSucceeded(decision.succeeded);
        this.#discard(decision.piece, decision.condition, decision.functionError, requestId);
        return;
      case 'retry':
        this.#checkpointSucceeded(decision.succeeded);
        this.#pieces.splice(0, 1, decision.piece);
        this.#stats.retries++;
        await sleep(decision.delayMs, this.#host.signal);
        return;
    }
  }

  async #invoke(
    event: KinesisStreamEvent,
    context: Context,
    timeoutMs: number,
    records: readonly PolledRecord[],
  ): Promise<InvokeOutcome> {
    const o = this.#host.options;
    const result = await invokeFunction(o.handler, event, context, {
      timeoutMs,
      sequenceNumbers: records.map((r) => r.sequenceNumber),
      reportBatchItemFailures: o.eventSource.reportBatchItemFailures,
      windowed: this.#windowSeconds > 0 && 'window' in event,
    });
    if (result.responded) this.#lastState = result.state;
    return result.outcome;
  }

  #discard(
    piece: Piece,
    condition: Extract<Decision, { kind: 'discard' }>['condition'],
    functionError: boolean,
    requestId: string,
  ): void {
    const message = onFailureMessage({
      requestId,
      functionArn: this.#host.options.functionArn,
      condition,
      approximateInvokeCount: piece.retries + 1,
      functionError,
      records: piece.records,
      origin: this.#origin,
      now: Date.now(),
    });
    const path = this.#host.writeOnFailure(this.#shardId, message);
    this.#host.log(
      `${this.#shardId}: discarded ${piece.records.length} records (${condition})${path === undefined ? '' : ` -> ${path}`}`,
    );
    this.#stats.onFailure++;
    this.#settle(piece.records);
  }

  /** The records of a partial failure before the failed one: checkpoint them, keep the piece in line. */
  #checkpointSucceeded(records: readonly PolledRecord[]): void {
    if (records.length > 0)
      this.#checkpoint(records[records.length - 1]?.sequenceNumber ?? null, records.length);
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
    this.#saveCheckpoint();
  }

  /** Saves the checkpoint and, with it, the open tumbling window's state. */
  #saveCheckpoint(): void {
    this.#store.writeShard({
      shardId: this.#shardId,
      sequenceNumber: this.#stats.checkpoint,
      finished: false,
      updatedAt: new Date().toISOString(),
      ...(this.#window === undefined ? {} : { window: this.#window }),
    });
  }
}
