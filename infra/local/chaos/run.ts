/**
 * A chaos run over the local cloud: the chaos config, the cloud options that plug the fault injector in
 * (processor, mapping's Kinesis client, duplicate deliveries), a split and a merge while events flow, and
 * the summary of what was injected and what the event source mapping observed.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type ClientOptions, kinesisClient } from '../../../common/aws.ts';
import type { ResolvedConfig } from '../../../common/config.ts';
import { createRng, type Rng } from '../../../producers/scenarios/prng.ts';
import type { LocalCloudOptions } from '../cloud.ts';
import type { ShardStats } from '../esm.ts';
import { FaultInjector, type InjectedCounts } from './injector.ts';
import { type ChaosOptions, chaosConfig } from './options.ts';
import { mergeShards, type ReshardEvent, splitShard } from './reshard.ts';

/** What a chaos run injected and what it caused, as `demo --chaos` reports it. */
export interface FaultSummary {
  seed: number;
  /** Re-invocations of failed batches by the mapping. */
  retries: number;
  /** Failed batches the mapping split in two. */
  bisects: number;
  /** DynamoDB and GetRecords requests throttled. */
  throttles: number;
  /** Invocations that timed out (observed by the mapping). */
  timeouts: number;
  /** Batches delivered twice. */
  duplicates: number;
  /** Splits and merges done. */
  reshards: number;
  injected: InjectedCounts & { split: number; merge: number };
  /** Totals over every shard of the mapping's counters. */
  observed: {
    invocations: number;
    functionErrors: number;
    timeouts: number;
    partialFailures: number;
    retries: number;
    bisects: number;
    /** Batches discarded to the OnFailure destination (a chaos run must keep this at 0). */
    onFailure: number;
    shards: number;
  };
  reshardEvents: ReshardEvent[];
  /** Resharding calls that failed (the run goes on). */
  reshardErrors: string[];
}

export class ChaosRun {
  readonly injector: FaultInjector;
  /** The config to run the cloud with (see {@link chaosConfig}). */
  readonly config: ResolvedConfig;
  readonly reshardEvents: ReshardEvent[] = [];
  readonly reshardErrors: string[] = [];
  readonly #rng: Rng;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  /** The last reshard operation: each starts after the one before it ended (a stream takes one at a time). */
  #lastReshard: Promise<void> = Promise.resolve();
  #kinesis: KinesisClient | undefined;

  constructor(config: ResolvedConfig, options: ChaosOptions = {}) {
    this.injector = new FaultInjector(options);
    this.config = chaosConfig(config, this.injector.options);
    this.#rng = createRng(this.injector.options.seed ^ 0x3c6ef372);
  }

  /** Options to spread into `LocalCloud.start` (with {@link config}). */
  cloudOptions(): Pick<LocalCloudOptions, 'buildHandler' | 'esmKinesisClient'> & {
    esmTuning: Pick<NonNullable<LocalCloudOptions['esmTuning']>, 'duplicateDelivery'>;
  } {
    return {
      buildHandler: (connection) => this.injector.processor(connection),
      esmKinesisClient: (options) => this.injector.esmKinesisClient(options),
      esmTuning: { duplicateDelivery: this.injector.duplicateDelivery },
    };
  }

  /**
   * Schedules a split at 30 % and a merge at 60 % of `durationMs` (10 s and 20 s without a duration),
   * through a Kinesis client on `kinesisOptions` (the running cloud's `clientOptions('kinesis')`).
   */
  startResharding(kinesisOptions: ClientOptions, durationMs?: number): void {
    if (!this.injector.options.reshard) return;
    this.#kinesis ??= kinesisClient(kinesisOptions);
    const kinesis = this.#kinesis;
    const stream = this.config.stream.name;
    const pick = (n: number) => this.#rng.int(0, Math.max(0, n - 1));
    const at = (fraction: number, fallbackMs: number) =>
      durationMs === undefined ? fallbackMs : Math.floor(durationMs * fraction);
    this.#schedule(at(0.3, 10_000), () => splitShard(kinesis, stream, pick));
    this.#schedule(at(0.6, 20_000), () => mergeShards(kinesis, stream, pick));
  }

  /** Cancels the resharding not started yet, then waits for the calls in flight. */
  async finishResharding(): Promise<void> {
    for (const t of this.#timers.splice(0)) clearTimeout(t);
    await Promise.all([...this.#inFlight]);
  }

  #schedule(delayMs: number, op: () => Promise<ReshardEvent>): void {
    const timer = setTimeout(() => {
      // Kinesis refuses a reshard while the stream is UPDATING from the previous one (ResourceInUse), and
      // a slow split can still be running when the merge is due: run them one after another.
      const p = this.#lastReshard
        .then(op)
        .then((e) => {
          this.reshardEvents.push(e);
        })
        .catch((err: unknown) => {
          this.reshardErrors.push(err instanceof Error ? err.message : String(err));
        })
        .finally(() => this.#inFlight.delete(p));
      this.#lastReshard = p;
      this.#inFlight.add(p);
    }, delayMs);
    this.#timers.push(timer);
  }

  summary(esm: readonly ShardStats[]): FaultSummary {
    const sum = (f: (s: ShardStats) => number) => esm.reduce((a, s) => a + f(s), 0);
    const c = this.injector.counts;
    const split = this.reshardEvents.filter((e) => e.kind === 'split').length;
    const merge = this.reshardEvents.filter((e) => e.kind === 'merge').length;
    return {
      seed: this.injector.options.seed,
      retries: sum((s) => s.retries),
      bisects: sum((s) => s.bisects),
      throttles: c.dynamoThrottle + c.getRecordsThrottle,
      timeouts: sum((s) => s.timeouts),
      duplicates: c.duplicate,
      reshards: split + merge,
      injected: { ...c, split, merge },
      observed: {
        invocations: sum((s) => s.invocations),
        functionErrors: sum((s) => s.functionErrors),
        timeouts: sum((s) => s.timeouts),
        partialFailures: sum((s) => s.partialFailures),
        retries: sum((s) => s.retries),
        bisects: sum((s) => s.bisects),
        onFailure: sum((s) => s.onFailure),
        shards: esm.length,
      },
      reshardEvents: [...this.reshardEvents],
      reshardErrors: [...this.reshardErrors],
    };
  }

  /** Cancels pending resharding and destroys the clients of the run (after the cloud stopped). */
  close(): void {
    for (const t of this.#timers.splice(0)) clearTimeout(t);
    this.#kinesis?.destroy();
    this.#kinesis = undefined;
    this.injector.close();
  }
}
