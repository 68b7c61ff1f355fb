/**
 * A small MQTT device client: one device (`source`) publishing v1 envelopes to its own topic,
 * `devices/{source}/events` (from `config.iot`), the way IoT Core's device policy lets it.
 *
 * - QoS 1 by default: `send()` resolves on the broker's PUBACK.
 * - At most `maxInFlight` unacknowledged publishes (IoT Core allows 100 per connection); the rest wait in a
 *   bounded queue, which also holds what is sent while offline. When the queue is full the oldest message
 *   is dropped: its `send()` rejects with {@link MessageDroppedError}, `onDrop` hears of it and
 *   `stats().dropped` counts it. Nothing is dropped silently.
 * - Reconnects with exponential backoff and full jitter; publishes the connection lost unacknowledged are
 *   resent on reconnect (MQTT 3.1.1 §4.4).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type EnvelopeInput, encodeEnvelope, validateEnvelope } from '../../common/envelope.ts';
import { describeValue, ShardlineError } from '../../common/errors.ts';
import { type DeviceMapping, deviceMapping, deviceTopic } from '../../common/iot.ts';
import { backoffDelay } from '../sdk/batching.ts';
import { InvalidEventError, ProducerClosedError } from '../sdk/errors.ts';
import { createEvent, type EventFields } from '../sdk/event.ts';

/** A queued message was dropped (queue full, or the client closed before it was sent). */
export class MessageDroppedError extends ShardlineError {
  constructor(reason: string) {
    super('MESSAGE_DROPPED', `message dropped: ${reason}`);
  }
}

export interface DeviceClientOptions {
  /** Broker URL: `mqtt://127.0.0.1:1883` locally, `mqtts://<endpoint>-ats.iot.<region>.amazonaws.com:8883` on AWS. */
  readonly url: string;
  /** The device id: the `{source}` level of its topic and its MQTT client id (the thing name on AWS). */
  readonly source: string;
  /** The topic mapping. @default deviceMapping of the default `config.iot` (`devices/{source}/events`) */
  readonly mapping?: DeviceMapping;
  /** QoS of every publish, 0 or 1 (IoT Core supports no QoS 2). @default 1 */
  readonly qos?: 0 | 1;
  /** Unacknowledged QoS 1 publishes at once, 1–100 (IoT Core's per-connection limit is 100). @default 100 */
  readonly maxInFlight?: number;
  /** Messages waiting to be sent (offline, or over `maxInFlight`), 1–1,000,000. @default 10,000 */
  readonly maxQueued?: number;
  /** Reconnect backoff base in ms, 1–60,000 (full jitter: uniform in [0, min(cap, base·2^(n-1)))). @default 100 */
  readonly reconnectBaseMs?: number;
  /** Reconnect backoff cap in ms, 1–600,000. @default 10,000 */
  readonly reconnectCapMs?: number;
  /** Extra `mqtt` connect options: TLS `key`, `cert`, `ca` for IoT Core, `keepalive`, `clean`... */
  readonly connect?: Omit<IClientOptions, 'clientId' | 'reconnectPeriod'>;
  /** Hears of every dropped message. */
  readonly onDrop?: (dropped: { readonly payload: string; readonly reason: string }) => void;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Counters since the client was created. */
export interface DeviceClientStats {
  /** Messages accepted by `send`/`sendRaw`. */
  accepted: number;
  /** Acknowledged by the broker (QoS 1) or written to the socket (QoS 0). */
  sent: number;
  /** Dropped from the queue (full, or closed before sending). */
  dropped: number;
  /** Waiting in the queue now. */
  queued: number;
  /** Published and not yet acknowledged now. */
  inFlight: number;
  /** Successful reconnects. */
  reconnects: number;
  connected: boolean;
}

interface Queued {
  readonly payload: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ShardlineError(
      'DEVICE_OPTIONS_INVALID',
      `${name} must be an integer between ${min} and ${max}; received ${describeValue(v)}`,
    );
  }
  return v;
}

/**
 * One device's connection.
 *
 * @example
 * ```ts
 * const device = await DeviceClient.connect({ url: 'mqtt://127.0.0.1:1883', source: 'device-0001' });
 * await device.send({ type: 'telemetry', ts: Date.now(), metrics: { temperature: 21.5 } });
 * await device.close();
 * ```
 */
export class DeviceClient {
  readonly source: string;
  readonly topic: string;
  readonly #client: MqttClient;
  readonly #qos: 0 | 1;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #base: number;
  readonly #cap: number;
  readonly #random: () => number;
  readonly #onDrop: DeviceClientOptions['onDrop'];
  readonly #queue: Queued[] = [];
  #inFlight = 0;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #everConnected = false;
  readonly #stats = { accepted: 0, sent: 0, dropped: 0, reconnects: 0 };
  #idle: (() => void)[] = [];

  private constructor(options: DeviceClientOptions) {
    const mapping =
      options.mapping ?? deviceMapping({ topic: 'devices/{source}/events', ruleName: 'unused' });
    this.source = options.source;
    this.topic = deviceTopic(mapping, options.source);
    this.#qos = options.qos ?? 1;
    if (this.#qos !== 0 && this.#qos !== 1) {
      throw new ShardlineError(
        'DEVICE_OPTIONS_INVALID',
        `qos must be 0 or 1; received ${describeValue(this.#qos)}`,
      );
    }
    this.#maxInFlight = checkInt('maxInFlight', options.maxInFlight ?? 100, 1, 100);
    this.#maxQueued = checkInt('maxQueued', options.maxQueued ?? 10_000, 1, 1_000_000);
    this.#base = checkInt('reconnectBaseMs', options.reconnectBaseMs ?? 100, 1, 60_000);
    this.#cap = checkInt('reconnectCapMs', options.reconnectCapMs ?? 10_000, 1, 600_000);
    this.#random = options.random ?? Math.random;
    this.#onDrop = options.onDrop;
    this.#client = mqtt.connect(options.url, {
      ...options.connect,
      clientId: options.source,
      reconnectPeriod: 0,
    });
    this.#client.on('connect', () => {
      if (this.#everConnected) this.#stats.reconnects++;
      this.#everConnected = true;
      this.#attempt = 0;
      this.#pump();
    });
    this.#client.on('close', () => this.#scheduleReconnect());
    // Connection errors surface as 'close' too; the reconnect loop handles them.
    this.#client.on('error', () => undefined);
  }

  /** Connects; resolves once the first CONNACK arrived (rejects if the first attempt fails). */
  static connect(options: DeviceClientOptions): Promise<DeviceClient> {
    const device = new DeviceClient(options);
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        device.#client.off('error', onError);
        resolve(device);
      };
      const onError = (err: Error) => {
        device.#client.off('connect', onConnect);
        void device.close({ timeoutMs: 0 });
        reject(
          new ShardlineError('DEVICE_CONNECT_FAILED', `could not connect to ${options.url}: ${err.message}`),
        );
      };
      device.#client.once('connect', onConnect);
      device.#client.once('error', onError);
    });
  }

  /**
   * Sends an event of this device: builds the envelope (`v: 1`, an `eventId` when absent) with `source` set
   * to this device, validates it, and publishes it. Resolves when the broker acknowledged it (QoS 1).
   */
  send(fields: Omit<EventFields, 'source'> & { readonly source?: string }): Promise<void> {
    const event: EnvelopeInput = createEvent({ ...fields, source: this.source });
    const checked = validateEnvelope(JSON.parse(encodeEnvelope(event)));
    if (!checked.ok) return Promise.reject(new InvalidEventError(checked.reason, checked.detail));
    return this.sendRaw(encodeEnvelope(event));
  }

  /** Publishes `payload` as it is (for tests and tools sending what is not an envelope). */
  sendRaw(payload: string): Promise<void> {
    if (this.#closed) return Promise.reject(new ProducerClosedError());
    this.#stats.accepted++;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ payload, resolve, reject });
      if (this.#queue.length > this.#maxQueued) {
        const oldest = this.#queue.shift()!;
        this.#drop(oldest, `queue full (${this.#maxQueued} messages waiting)`);
      }
      this.#pump();
    });
  }

  stats(): DeviceClientStats {
    return {
      ...this.#stats,
      queued: this.#queue.length,
      inFlight: this.#inFlight,
      connected: this.#client.connected,
    };
  }

  /**
   * Waits up to `timeoutMs` for everything queued and in flight to be acknowledged, then disconnects;
   * what is still queued then is dropped (and reported). Idempotent.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!this.#closed && (this.#queue.length > 0 || this.#inFlight > 0) && timeoutMs > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
    }
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    for (const q of this.#queue.splice(0)) this.#drop(q, 'client closed before it was sent');
    await this.#client.endAsync(true).catch(() => undefined);
  }

  #drop(q: Queued, reason: string): void {
    this.#stats.dropped++;
    this.#onDrop?.({ payload: q.payload, reason });
    q.reject(new MessageDroppedError(reason));
  }

  #pump(): void {
    while (this.#client.connected && this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const q = this.#queue.shift()!;
      this.#inFlight++;
      // mqtt keeps an unacknowledged QoS 1 publish in its store and resends it after a reconnect; the
      // callback fires once, on PUBACK (or on the socket write for QoS 0).
      this.#client.publish(this.topic, q.payload, { qos: this.#qos }, (err) => {
        this.#inFlight--;
        if (err) q.reject(err);
        else {
          this.#stats.sent++;
          q.resolve();
        }
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) for (const r of this.#idle.splice(0)) r();
      });
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    this.#attempt++;
    const delay = backoffDelay(this.#attempt, this.#base, this.#cap, this.#random);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#closed) this.#client.reconnect();
    }, delay);
  }
}
