/**
 * The synthetic IoT fleet over MQTT: the `iot` scenario's devices, one {@link DeviceClient} (connection)
 * each, publishing to their own topic at a steady total rate. What `shardline produce --via mqtt` runs.
 */
import { encodeEnvelope, type ShardlineEvent, validateEnvelope } from '../../common/envelope.ts';
import { ConfigError, describeValue } from '../../common/errors.ts';
import type { DeviceMapping } from '../../common/iot.ts';
import { createEmitter } from '../scenarios/emitter.ts';
import { iotScenario } from '../scenarios/iot.ts';
import type { Scenario } from '../scenarios/types.ts';
import { type Clock, systemClock } from '../sdk/options.ts';
import { DeviceClient, type DeviceClientOptions } from './client.ts';

export interface FleetOptions {
  /** Broker URL (`mqttUrl` of `shardline up --json`). */
  readonly url: string;
  /** Topic mapping. @default the default `config.iot` */
  readonly mapping?: DeviceMapping;
  /** Events per second over the whole fleet, greater than 0 and at most 100,000. @default 100 */
  readonly rate?: number;
  /** Seconds to run, greater than 0 and at most 604,800. */
  readonly durationSeconds?: number;
  /** Records to send instead of a duration, 1–100,000,000. Without either, runs until `signal` aborts. */
  readonly count?: number;
  /**
   * The devices' scenario; each event is published by the device named by its `source`.
   * @default the `iot` scenario with `devices` devices and `seed`
   */
  readonly scenario?: Scenario;
  /** Devices (MQTT connections), 1–10,000. @default 100 */
  readonly devices?: number;
  /** Seed of the scenario and the injections. @default 1 */
  readonly seed?: number;
  /** Probability a record re-sends an earlier event, 0–1. @default 0 */
  readonly duplicateRate?: number;
  /** Probability a record is malformed, 0–1. @default 0 */
  readonly invalidRate?: number;
  /** Per-device client settings (QoS, queue, backoff, TLS). */
  readonly device?: Omit<DeviceClientOptions, 'url' | 'source' | 'mapping'>;
  /** Keep the acknowledged events in the result. @default true */
  readonly collect?: boolean;
  readonly signal?: AbortSignal;
  /** Called about every `progressIntervalMs` and once at the end. */
  readonly onProgress?: (p: FleetProgress) => void;
  /** @default 250 */
  readonly progressIntervalMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
}

export interface FleetProgress {
  readonly emitted: number;
  readonly sent: number;
  readonly dropped: number;
  readonly elapsedMs: number;
  readonly total: number | null;
}

export interface FleetReport {
  readonly scenario: 'iot';
  readonly via: 'mqtt';
  readonly url: string;
  readonly seed: number;
  /** Records generated (events + duplicates + invalid). */
  readonly emitted: number;
  readonly events: number;
  readonly duplicates: number;
  readonly invalid: number;
  /** Acknowledged by the broker (QoS 1). */
  readonly sent: number;
  /** Dropped by a device's bounded queue or failed (each also reported through `onDrop`). */
  readonly failed: number;
  /** Devices that connected. */
  readonly devices: number;
  readonly reconnects: number;
  readonly durationMs: number;
  readonly rateAchieved: number;
  readonly aborted: boolean;
}

export interface FleetResult {
  readonly report: FleetReport;
  /** The valid events the broker acknowledged (empty with `collect: false`). */
  readonly events: readonly ShardlineEvent[];
}

function check(name: string, v: number | undefined, min: number, max: number, integer: boolean): void {
  if (v === undefined) return;
  const ok = Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
  if (!ok) {
    throw new ConfigError(
      `${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}; received ${describeValue(v)}`,
    );
  }
}

/** Runs the fleet; resolves when everything emitted is acknowledged or reported failed. */
export async function produceOverMqtt(options: FleetOptions): Promise<FleetResult> {
  check('rate', options.rate, Number.MIN_VALUE, 100_000, false);
  check('durationSeconds', options.durationSeconds, Number.MIN_VALUE, 604_800, false);
  check('count', options.count, 1, 100_000_000, true);
  check('devices', options.devices, 1, 10_000, true);
  const rate = options.rate ?? 100;
  const seed = options.seed ?? 1;
  const clock = options.clock ?? systemClock;
  const collect = options.collect ?? true;
  const emitter = createEmitter(
    options.scenario ??
      iotScenario({ seed, ...(options.devices === undefined ? {} : { devices: options.devices }) }),
    {
      seed,
      ...(options.invalidRate === undefined ? {} : { invalidRate: options.invalidRate }),
      ...(options.duplicateRate === undefined ? {} : { duplicateRate: options.duplicateRate }),
    },
  );
  const total =
    options.count ??
    (options.durationSeconds === undefined ? null : Math.max(1, Math.round(rate * options.durationSeconds)));
  const fleet = new Map<string, Promise<DeviceClient>>();
  const device = (source: string) => {
    let d = fleet.get(source);
    if (!d) {
      d = DeviceClient.connect({
        ...options.device,
        url: options.url,
        source,
        ...(options.mapping === undefined ? {} : { mapping: options.mapping }),
      });
      fleet.set(source, d);
    }
    return d;
  };
  const counts = { emitted: 0, events: 0, duplicates: 0, invalid: 0, sent: 0, failed: 0 };
  const acked: ShardlineEvent[] = [];
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>, event: ShardlineEvent | null) => {
    const t = p.then(
      () => {
        counts.sent++;
        if (collect && event) acked.push(event);
      },
      () => {
        counts.failed++;
      },
    );
    const tracked = t.finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const started = clock.now();
  let lastProgress = started;
  const progress = () =>
    options.onProgress?.({
      emitted: counts.emitted,
      sent: counts.sent,
      dropped: counts.failed,
      elapsedMs: clock.now() - started,
      total,
    });
  const aborted = () => options.signal?.aborted === true;
  const decoder = new TextDecoder();
  let connected = 0;
  let reconnects = 0;
  try {
    while ((total === null || counts.emitted < total) && !aborted()) {
      const elapsed = clock.now() - started;
      const due = Math.min(total ?? Number.POSITIVE_INFINITY, Math.floor((elapsed * rate) / 1000) + 1);
      if (counts.emitted >= due) {
        await clock.sleep(Math.max(1, Math.ceil((counts.emitted * 1000) / rate - elapsed)));
        continue;
      }
      while (counts.emitted < due && !aborted()) {
        const e = emitter.emit(started + Math.floor((counts.emitted * 1000) / rate));
        if (e.kind === 'invalid') {
          const d = await device(e.partitionKey);
          track(d.sendRaw(decoder.decode(e.data)), null);
          counts.invalid++;
        } else {
          const d = await device(e.event.source);
          const text = encodeEnvelope(e.event);
          const v = validateEnvelope(JSON.parse(text));
          track(d.sendRaw(text), v.ok ? v.event : null);
          if (e.kind === 'duplicate') counts.duplicates++;
          else counts.events++;
        }
        counts.emitted++;
      }
      if (options.onProgress && clock.now() - lastProgress >= (options.progressIntervalMs ?? 250)) {
        lastProgress = clock.now();
        progress();
      }
    }
    while (pending.size > 0) await Promise.allSettled([...pending]);
  } finally {
    for (const c of await Promise.allSettled(fleet.values())) {
      if (c.status !== 'fulfilled') continue;
      await c.value.close();
      connected++;
      reconnects += c.value.stats().reconnects;
    }
    while (pending.size > 0) await Promise.allSettled([...pending]);
  }
  progress();
  const durationMs = Math.max(1, clock.now() - started);
  return {
    report: {
      scenario: 'iot',
      via: 'mqtt',
      url: options.url,
      seed,
      emitted: counts.emitted,
      events: counts.events,
      duplicates: counts.duplicates,
      invalid: counts.invalid,
      sent: counts.sent,
      failed: counts.failed,
      devices: connected,
      reconnects,
      durationMs,
      rateAchieved: Math.round((counts.sent * 1000 * 10) / durationMs) / 10,
      aborted: aborted(),
    },
    events: acked,
  };
}
