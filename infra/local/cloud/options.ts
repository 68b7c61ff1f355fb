/** The local cloud's options and the shapes it reports (`cloud.json`, stats, the connection it hands out). */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ClientOptions } from '../../../common/aws.ts';
import type { ResolvedConfig } from '../../../common/config.ts';
import type { LocalApiEndpoints } from '../apis.ts';
import type { LocalService } from '../connect.ts';
import type { EventSourceMappingOptions, KinesisHandler, ShardStats } from '../esm.ts';
import type { LocalFirehoseOptions, LocalFirehoseStats } from '../firehose.ts';
import type { LocalMqttOptions, LocalMqttStats } from '../mqtt/index.ts';

export interface LocalCloudOptions {
  readonly config: ResolvedConfig;
  /** State folder: emulator stores, checkpoints, archive (`s3/<bucket>`), OnFailure records. Created if missing. */
  readonly dataDir: string;
  /**
   * The function the mapping invokes. @default the processor (`processors/handler.ts`), built on this
   * cloud's config and clients
   */
  readonly handler?: KinesisHandler;
  /**
   * Builds the function the mapping invokes from the running cloud's client options (chaos runs instrument
   * the processor's clients). Ignored when `handler` is given. @default none
   */
  readonly buildHandler?: (connection: LocalConnection) => KinesisHandler;
  readonly log?: (line: string) => void;
  /** Run the event source mapping. @default true */
  readonly esm?: boolean;
  /** Run the local Firehose (archive and quarantine delivery streams). @default true */
  readonly firehose?: boolean;
  /** Event source mapping test knobs (poll interval, backoff...). @default the mapping's defaults */
  readonly esmTuning?: Pick<
    EventSourceMappingOptions,
    'pollIntervalMs' | 'shardDiscoveryIntervalMs' | 'retryBackoffMs' | 'clock' | 'duplicateDelivery'
  >;
  /**
   * Builds the mapping's own Kinesis client from the emulator's client options (chaos runs add fault
   * middleware to it); the caller destroys the client after `stop()`.
   * @default the cloud's shared Kinesis client
   */
  readonly esmKinesisClient?: (options: ClientOptions) => KinesisClient;
  /** Local Firehose test knobs. @default the Firehose's defaults */
  readonly firehoseTuning?: Pick<LocalFirehoseOptions, 'pollIntervalMs'>;
  /** Run the ingest HTTP endpoint (`POST /ingest`, `GET /sdk.js`, `GET /healthz`). @default true */
  readonly ingest?: boolean;
  /** Port of the ingest endpoint on 127.0.0.1, 0–65535 (0: a free port). @default 0 */
  readonly ingestPort?: number;
  /**
   * Run kinesalite and dynalite on worker threads, each with its own event loop, so the emulators' work no
   * longer holds up the mapping, the processor and the Firehose (and a second core gets used).
   * @default false
   */
  readonly emulatorThreads?: boolean;
  /** Run the MQTT broker with the device topic rule (`infra/local/mqtt`). @default true */
  readonly mqtt?: boolean;
  /** Port of the MQTT broker on 127.0.0.1, 0–65535 (0: a free port). @default 0 */
  readonly mqttPort?: number;
  /** Device rule batching knobs. @default the rule's defaults */
  readonly mqttTuning?: LocalMqttOptions['tuning'];
  /**
   * Answer the AWS APIs of `--target aws` (Athena, CloudFormation DescribeStacks, the on-failure queue's
   * depth over SQS): `infra/local/apis.ts`. @default true
   */
  readonly awsApis?: boolean;
  /**
   * The stack this local cloud stands in for: DescribeStacks answers to it, and the stream, table,
   * delivery streams, Glue database and workgroup get the names a deployed stack of that name has
   * (`namesForStack`). @default 'Shardline' (the config's names)
   */
  readonly stackName?: string;
  /**
   * Bring your own emulator (or account): use these Kinesis / DynamoDB endpoints instead of starting
   * kinesalite / dynalite; the stream and table are created there if missing. `shardline up` and `demo`
   * pass the standard `AWS_ENDPOINT_URL_KINESIS` / `AWS_ENDPOINT_URL_DYNAMODB` here.
   * @default start both in-process
   */
  readonly external?: { readonly kinesis?: string; readonly dynamodb?: string };
}

/** Endpoints of the local cloud's services (null: not running). */
export type CloudEndpoints = {
  kinesis: string;
  dynamodb: string;
  firehose: string | null;
  ingest: string | null;
} & {
  [K in keyof LocalApiEndpoints]: string | null;
};

/** Contents of `<dataDir>/cloud.json` while a local cloud runs. */
export interface CloudInfo {
  pid: number;
  startedAt: string;
  region: string;
  endpoints: CloudEndpoints;
  /** Stack name the local CloudFormation answers DescribeStacks for, or null without the AWS APIs. */
  stackName: string | null;
  streamName: string;
  streamArn: string;
  tableName: string;
  archiveDir: string;
  /** Where web clients POST events (`<endpoints.ingest>/ingest`), or null without the ingest endpoint. */
  ingestUrl: string | null;
  /** Where devices publish over MQTT (`mqtt://127.0.0.1:<port>`), or null without the broker. */
  mqttUrl: string | null;
}

export interface LocalCloudStats {
  esm: ShardStats[] | null;
  firehose: LocalFirehoseStats | null;
  mqtt: LocalMqttStats | null;
}

/** What a handler factory gets: the running cloud's client options. */
export interface LocalConnection {
  readonly config: ResolvedConfig;
  clientOptions(service: LocalService): ClientOptions;
}
