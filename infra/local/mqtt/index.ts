/**
 * Devices over MQTT in the local cloud: the broker and the device topic rule from `config.iot`, writing to
 * the stream, and to the quarantine delivery stream what it cannot put there.
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { firehoseClient } from '../../../common/aws.ts';
import type { ResolvedConfig } from '../../../common/config.ts';
import { deviceMapping } from '../../../common/iot.ts';
import { QuarantineSink } from '../../../processors/adapters/quarantine.ts';
import { LOCAL_ACCOUNT } from '../private/arn.ts';
import { LocalMqttBroker, type LocalMqttBrokerStats } from './broker.ts';
import { DeviceRule, type DeviceRuleOptions, type DeviceRuleStats } from './rule.ts';

export { LocalMqttBroker, type LocalMqttBrokerStats } from './broker.ts';
export { DeviceRule, type DeviceRuleOptions, type DeviceRuleStats, quarantineRecordOf } from './rule.ts';

export interface LocalMqttOptions {
  readonly config: ResolvedConfig;
  /** Kinesis client pointed at the local stream. */
  readonly kinesis: KinesisClient;
  /** The local Firehose API endpoint (quarantine delivery stream), or null to only count rejected messages. */
  readonly firehoseEndpoint: string | null;
  /** Broker port on 127.0.0.1, 0–65535 (0: a free port). @default 0 */
  readonly port?: number;
  /** Rule batching and retry knobs. @default the rule's defaults */
  readonly tuning?: Pick<DeviceRuleOptions, 'maxBatchRecords' | 'lingerMs' | 'put'>;
  readonly log?: (line: string) => void;
}

export interface LocalMqttStats {
  broker: LocalMqttBrokerStats;
  rule: DeviceRuleStats;
}

/** The broker with its rule. */
export class LocalMqtt {
  readonly rule: DeviceRule;
  readonly broker: LocalMqttBroker;
  readonly #firehose: FirehoseClient | null;

  private constructor(rule: DeviceRule, broker: LocalMqttBroker, firehose: FirehoseClient | null) {
    this.rule = rule;
    this.broker = broker;
    this.#firehose = firehose;
  }

  /** `mqtt://127.0.0.1:<port>`. */
  get url(): string {
    return this.broker.url;
  }

  static async start(options: LocalMqttOptions): Promise<LocalMqtt> {
    const { config } = options;
    const firehose =
      options.firehoseEndpoint === null
        ? null
        : firehoseClient({ region: config.region, endpoint: options.firehoseEndpoint });
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
      return new LocalMqtt(rule, broker, firehose);
    } catch (err) {
      firehose?.destroy();
      throw err;
    }
  }

  stats(): LocalMqttStats {
    return { broker: this.broker.stats(), rule: this.rule.stats() };
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
