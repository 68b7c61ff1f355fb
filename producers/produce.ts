/**
 * `produce()`: the paced load generator behind `shardline produce` and the demo. Emits a scenario at a
 * rate through a {@link Producer} and returns a report plus a log of every record Kinesis accepted, so
 * tests can fold what was really produced and compare it with the pipeline's aggregates.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../common/aws.ts';
import { type ShardlineEvent, validateEnvelope } from '../common/envelope.ts';
import { ConfigError, describeValue } from '../common/errors.ts';
import { createEmitter } from './scenarios/emitter.ts';
import { iotScenario } from './scenarios/iot.ts';
import type { Scenario } from './scenarios/types.ts';
import { webScenario } from './scenarios/web.ts';
import type {
  Clock,
  DeliveredRecord,
  FailedRecord,
  PartitionKeyStrategy,
  ProducerOptions,
} from './sdk/options.ts';
import { systemClock } from './sdk/options.ts';
import { Producer, type ProducerStats } from './sdk/producer.ts';

export type ScenarioName = 'iot' | 'web';

export interface ProduceOptions {
  /** Target stream. */
  readonly streamName: string;
  /** @default kinesisClient({ region }) from common/aws.ts (endpoint from AWS_ENDPOINT_URL_KINESIS) */
  readonly client?: KinesisClient;
  /** Region for the default client. @default the SDK's environment */
  readonly region?: string;
  /** Built-in scenario name or your own generator. @default 'iot' */
  readonly scenario?: ScenarioName | Scenario;
  /** Events per second, greater than 0 and at most 1,000,000. @default 100 */
  readonly rate?: number;
  /** Seconds to run, greater than 0 and at most 604,800; emits `round(rate·duration)` records. */
  readonly durationSeconds?: number;
  /** Records to emit (instead of a duration), 1–100,000,000. Without either, runs until `signal` aborts. */
  readonly count?: number;
  /** IoT devices, 1–100,000. @default 100 */
  readonly devices?: number;
  /** Web sessions active at once, 1–100,000. @default 50 */
  readonly sessions?: number;
  /** Seed of the scenario and the injections. @default 1 */
  readonly seed?: number;
  /** KPL-aggregate records (the SDK's default). @default true */
  readonly kpl?: boolean;
  /** Probability a record re-sends an earlier event (same eventId), 0–1. @default 0 */
  readonly duplicateRate?: number;
  /** Probability a record is malformed, 0–1. @default 0 */
  readonly invalidRate?: number;
  /** IoT: probability an event is late, 0–1. @default 0 */
  readonly lateRate?: number;
  /** IoT: how late a late event is, in ms. @default 120000 */
  readonly lateByMs?: number;
  /** IoT: fraction of devices with failing sensors, 0–1. @default 0 */
  readonly failingRate?: number;
  /** Event time of the first record (later ones follow at 1/rate). @default the clock's now */
  readonly startTimeMs?: number;
  /** Partition key strategy. @default 'source' */
  readonly partitionKey?: PartitionKeyStrategy;
  /** Extra producer settings (linger, retry, limits). */
  readonly producer?: Omit<
    ProducerOptions,
    'streamName' | 'client' | 'aggregate' | 'partitionKey' | 'onDelivered' | 'onFailure' | 'clock'
  >;
  /** Keep the log of accepted records in the result. @default true */
  readonly collect?: boolean;
  /** Stops emitting; what was accepted is still flushed and reported. */
  readonly signal?: AbortSignal;
  /** Called at most every `progressIntervalMs` and once at the end. */
  readonly onProgress?: (progress: ProduceProgress) => void;
  /** @default 250 */
  readonly progressIntervalMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
}

export interface ProduceProgress extends ProducerStats {
  readonly emitted: number;
  readonly elapsedMs: number;
  /** Target total, or null when running until aborted. */
  readonly total: number | null;
}

/** The final report. Record counts are user records. */
export interface ProduceReport {
  readonly scenario: string;
  readonly stream: string;
  readonly seed: number;
  readonly kpl: boolean;
  /** Records generated (events + duplicates + invalid). */
  readonly emitted: number;
  readonly events: number;
  readonly duplicates: number;
  readonly invalid: number;
  /** Accepted into the producer's buffer. */
  readonly accepted: number;
  /** Acknowledged by Kinesis. */
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
  readonly throttled: number;
  readonly requests: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** Records acknowledged per second of wall time. */
  readonly rateAchieved: number;
  readonly aborted: boolean;
}

/** One record Kinesis accepted. */
export interface ProducedRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
  readonly partitionKey: string;
  /** The validated event, or null for a malformed record. */
  readonly event: ShardlineEvent | null;
  /** Whether an earlier accepted record carried the same eventId. */
  readonly duplicate: boolean;
  /** The record's bytes as UTF-8 text. */
  readonly data: string;
}

export interface ProduceResult {
  readonly report: ProduceReport;
  /** Every record Kinesis accepted, in acknowledgement order (empty with `collect: false`). */
  readonly records: readonly ProducedRecord[];
  /** Every record given up on. */
  readonly failures: readonly FailedRecord[];
}

function checkNumber(
  name: string,
  v: number | undefined,
  min: number,
  max: number,
  opts: { exclusiveMin?: boolean; integer?: boolean } = {},
): void {
  if (v === undefined) return;
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (opts.exclusiveMin ? v > min : v >= min) &&
    v <= max &&
    (!opts.integer || Number.isInteger(v));
  if (!ok) {
    const range = opts.exclusiveMin ? `greater than ${min} and at most ${max}` : `between ${min} and ${max}`;
    throw new ConfigError(
      `${name} must be ${opts.integer ? 'an integer' : 'a number'} ${range}; received ${describeValue(v)}`,
    );
  }
}

const decoder = new TextDecoder();

/**
 * Runs the load generator. Resolves when everything emitted is delivered or reported failed.
 *
 * @example
 * ```ts
 * const { report, records } = await produce({ streamName: 'shardline-events', rate: 200, durationSeconds: 5 });
 * ```
 */
export async function produce(options: ProduceOptions): Promise<ProduceResult> {
  checkNumber('rate', options.rate, 0, 1_000_000, { exclusiveMin: true });
  checkNumber('durationSeconds', options.durationSeconds, 0, 604_800, { exclusiveMin: true });
  checkNumber('count', options.count, 1, 100_000_000, { integer: true });
  checkNumber('progressIntervalMs', options.progressIntervalMs, 1, 3_600_000, { integer: true });
  const rate = options.rate ?? 100;
  const seed = options.seed ?? 1;
  const clock = options.clock ?? systemClock;
  const scenario: Scenario =
    typeof options.scenario === 'object'
      ? options.scenario
      : options.scenario === 'web'
        ? webScenario({ seed, ...(options.sessions === undefined ? {} : { sessions: options.sessions }) })
        : options.scenario === undefined || options.scenario === 'iot'
          ? iotScenario({
              seed,
              ...(options.devices === undefined ? {} : { devices: options.devices }),
              ...(options.lateRate === undefined ? {} : { lateRate: options.lateRate }),
              ...(options.lateByMs === undefined ? {} : { lateByMs: options.lateByMs }),
              ...(options.failingRate === undefined ? {} : { failingRate: options.failingRate }),
            })
          : (() => {
              throw new ConfigError(
                `scenario must be one of iot, web; received ${describeValue(options.scenario)}`,
              );
            })();
  const emitter = createEmitter(scenario, {
    seed,
    ...(options.invalidRate === undefined ? {} : { invalidRate: options.invalidRate }),
    ...(options.duplicateRate === undefined ? {} : { duplicateRate: options.duplicateRate }),
  });
  const total =
    options.count ??
    (options.durationSeconds === undefined ? null : Math.max(1, Math.round(rate * options.durationSeconds)));
  const collect = options.collect ?? true;

  const records: ProducedRecord[] = [];
  const failures: FailedRecord[] = [];
  const seenIds = new Set<string>();
  const onDelivered = (delivered: readonly DeliveredRecord[]) => {
    if (!collect) return;
    for (const d of delivered) {
      const text = decoder.decode(d.data);
      let event: ShardlineEvent | null = null;
      try {
        const v = validateEnvelope(JSON.parse(text));
        if (v.ok) event = v.event;
      } catch {
        event = null;
      }
      const duplicate = event !== null && seenIds.has(event.eventId);
      if (event !== null) seenIds.add(event.eventId);
      records.push({
        shardId: d.shardId,
        sequenceNumber: d.sequenceNumber,
        subSequenceNumber: d.subSequenceNumber,
        partitionKey: d.partitionKey,
        event,
        duplicate,
        data: text,
      });
    }
  };
  const client =
    options.client ?? kinesisClient(options.region === undefined ? {} : { region: options.region });
  const producer = new Producer({
    ...options.producer,
    streamName: options.streamName,
    client,
    aggregate: options.kpl ?? true,
    partitionKey: options.partitionKey ?? 'source',
    onDelivered,
    onFailure: (f) => failures.push(f),
    clock,
  });

  const started = clock.now();
  const startTime = options.startTimeMs ?? started;
  const counts = { emitted: 0, events: 0, duplicates: 0, invalid: 0 };
  const interval = options.progressIntervalMs ?? 250;
  let lastProgress = started;
  const progress = () => {
    options.onProgress?.({
      ...producer.stats(),
      emitted: counts.emitted,
      elapsedMs: clock.now() - started,
      total,
    });
  };
  const aborted = () => options.signal?.aborted === true;

  try {
    while ((total === null || counts.emitted < total) && !aborted()) {
      const elapsed = clock.now() - started;
      const due = Math.min(total ?? Number.POSITIVE_INFINITY, Math.floor((elapsed * rate) / 1000) + 1);
      if (counts.emitted >= due) {
        await clock.sleep(Math.max(1, Math.ceil((counts.emitted * 1000) / rate - elapsed)));
        continue;
      }
      while (counts.emitted < due && !aborted()) {
        const nowMs = startTime + Math.floor((counts.emitted * 1000) / rate);
        const e = emitter.emit(nowMs);
        if (e.kind === 'invalid') {
          await producer.sendRaw(e.data, e.partitionKey);
          counts.invalid++;
        } else {
          await producer.send(e.event);
          if (e.kind === 'duplicate') counts.duplicates++;
          else counts.events++;
        }
        counts.emitted++;
      }
      if (options.onProgress && clock.now() - lastProgress >= interval) {
        lastProgress = clock.now();
        progress();
      }
    }
  } finally {
    await producer.close();
    if (options.client === undefined) client.destroy();
  }
  progress();
  const s = producer.stats();
  const durationMs = Math.max(1, clock.now() - started);
  return {
    report: {
      scenario: scenario.name,
      stream: options.streamName,
      seed,
      kpl: options.kpl ?? true,
      ...counts,
      accepted: s.accepted,
      sent: s.sent,
      retried: s.retried,
      failed: s.failed,
      throttled: s.throttled,
      requests: s.requests,
      bytes: s.bytes,
      durationMs,
      rateAchieved: Math.round((s.sent * 1000 * 10) / durationMs) / 10,
      aborted: aborted(),
    },
    records,
    failures,
  };
}
