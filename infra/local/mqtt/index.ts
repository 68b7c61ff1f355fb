/**
 * Devices over MQTT in the local cloud: the broker and the device topic rule from `config.iot`, writing to
 * the stream, and to the quarantine delivery stream what it cannot put there.
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type ClientOptions, firehoseClient } from '../../../common/aws.ts';
import type { ResolvedConfig } from '../../../common/config.ts';
import { deviceMapping } from '../../../common/iot.ts';
import { QuarantineSink } from '../../../processors/index.ts';
import { LOCAL_ACCOUNT } from '../private/arn.ts';
import { LocalMqttBroker, type LocalMqttBrokerStats } from './broker.ts';
import { DeviceRule, type DeviceRuleOptions, type DeviceRuleStats } from './rule.ts';

export { LocalMqttBroker, type LocalMqttBrokerStats } from './broker.ts';
export { DeviceRule, type DeviceRuleOptions, type DeviceRuleStats, quarantineRecordOf } from './rule.ts';

export interface LocalMqttOptions {
  readonly config: ResolvedConfig;
  /** Kinesis client pointed at the local stream. */
  readonly kinesis: KinesisClient;
  /**
   * Client options of the local Firehose API (the quarantine delivery stream), e.g.
   * `cloud.clientOptions('firehose')`; null only counts and logs rejected messages.
   */
  readonly quarantine: ClientOptions | null;
  /** Broker port on 127.0.0.1, 0–65535 (0: a free port). @default 0 */
  readonly port?: number;
  /** Rule batching and retry knobs. @default the rule's defaults */
  readonly tuning?: Pick<DeviceRuleOptions, 'maxBatchRecords' | 'maxConcurrentPuts' | 'put'>;
  readonly log?: (line: string) => void;
}

export interface LocalMqttStats {
  broker: LocalMqttBrokerStats;
  rule: DeviceRuleStats;
}

/** The broker with its rule. */
export class LocalMqtt {
  readonly rule: DeviceRule;
  #broker: LocalMqttBroker;
  readonly #firehose: FirehoseClient | null;
  readonly #log: ((line: string) => void) | undefined;

  private constructor(
    rule: DeviceRule,
    broker: LocalMqttBroker,
    firehose: FirehoseClient | null,
    log: ((line: string) => void) | undefined,
  ) {
    this.rule = rule;
    this.#broker = broker;
    this.#firehose = firehose;
    this.#log = log;
  }

  /** The broker now running (a new one after {@link LocalMqtt.restart}). */
  get broker(): LocalMqttBroker {
    return this.#broker;
  }

  /** `mqtt://127.0.0.1:<port>`. */
  get url(): string {
    return this.broker.url;
  }

  static async start(options: LocalMqttOptions): Promise<LocalMqtt> {
    const { config } = options;
    const firehose = options.quarantine === null ? null : firehoseClient(options.quarantine);
    const mapping = deviceMapping(config.iot);
    const rule = new DeviceRule({
      ...options.tuning,
      mapping,
      streamName: config.stream.name,
      kinesis: options.kinesis,
      quarantine:
        firehose === null
          ? null
          : new QuarantineSink({
              client: firehose,
              deliveryStreamName: config.quarantine.deliveryStreamName,
            }),
      ruleArn: `arn:aws:iot:${config.region}:${LOCAL_ACCOUNT}:rule/${mapping.ruleName}`,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    try {
      const broker = await LocalMqttBroker.start({
        rule,
        port: options.port ?? 0,
        ...(options.log === undefined ? {} : { log: options.log }),
      });
      return new LocalMqtt(rule, broker, firehose, options.log);
    } catch (err) {
      firehose?.destroy();
      throw err;
    }
  }

  stats(): LocalMqttStats {
    return { broker: this.broker.stats(), rule: this.rule.stats() };
  }

  /**
   * Restarts the broker in this process as after a crash: the listener and every connection close at once,
   * the messages the rule had batched but not yet sent are dropped, and a new aedes instance listens on the
   * same port. What the old broker held in memory (sessions, subscriptions, QoS 1 messages on their way to
   * subscribers) is gone; what it acknowledged from publishers is not, because it acknowledged a QoS 1
   * PUBLISH only once the rule had put it on the stream or in quarantine. (A PutRecords call already in
   * flight completes: its records may reach the stream unacknowledged, and the resend makes a duplicate,
   * as at-least-once delivery allows.)
   */
  async restart(): Promise<{ dropped: number }> {
    const port = this.#broker.port;
    const stopped = this.#broker.stop();
    const dropped = this.rule.discardPending();
    await stopped;
    this.#broker = await LocalMqttBroker.start({
      rule: this.rule,
      port,
      ...(this.#log === undefined ? {} : { log: this.#log }),
    });
    return { dropped };
  }

  /** Waits until every message received so far is on the stream or in quarantine. */
  drain(): Promise<void> {
    return this.rule.drain();
  }

  /** Stops the broker, then settles what the rule holds. Idempotent. */
  async stop(): Promise<void> {
    await this.broker.stop();
    await this.rule.drain();
    this.#firehose?.destroy();
  }
}
