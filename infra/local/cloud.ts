/**
 * The local cloud: kinesalite + dynalite in-process, the stream and table created if absent, the local
 * Firehose, and the event source mapping invoking the processor, all persisted under one data dir.
 * It leaves the environment alone: clients in this process take {@link LocalCloud.clientOptions}, other
 * processes {@link LocalCloud.env} or `cloud.json`; several clouds can run side by side.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type ClientOptions, dynamodbClient, firehoseClient, kinesisClient } from '../../common/aws.ts';
import type { ResolvedConfig } from '../../common/config.ts';
import { ServiceError } from '../../common/errors.ts';
import { namesForStack } from '../../common/names.ts';
import { webIngestPolicy } from '../../producers/ingest/index.ts';
import { type LocalApis, startLocalApis } from './apis.ts';
import type {
  CloudEndpoints,
  CloudInfo,
  LocalCloudOptions,
  LocalCloudStats,
  LocalConnection,
} from './cloud/options.ts';
import { LOCAL_CREDENTIALS, type LocalService, localClientOptions } from './connect.ts';
import { type Emulator, startDynamo, startKinesis } from './emulators.ts';
import { EventSourceMapping } from './esm.ts';
import { LocalFirehose } from './firehose.ts';
import { LocalIngest } from './ingest.ts';
import { LocalMqtt } from './mqtt/index.ts';
/** Account id used in every local ARN. */
import { LOCAL_ACCOUNT, localStreamArn } from './private/arn.ts';
import { ensureStream, ensureTable } from './private/resources.ts';
import { writeJsonAtomic } from './private/state.ts';

export type {
  CloudEndpoints,
  CloudInfo,
  LocalCloudOptions,
  LocalCloudStats,
  LocalConnection,
} from './cloud/options.ts';
export { ensureTable, LOCAL_ACCOUNT };
/** Name of the processor function in local ARNs. */
export const LOCAL_FUNCTION_NAME = 'shardline-processor';

/** An endpoint someone else runs: nothing to close. */
function externalEmulator(endpoint: string): Emulator {
  return { endpoint, close: async () => undefined };
}

/** The cloud's own SDK clients (the Firehose one only when it runs the processor). */
interface CloudClients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  firehose?: FirehoseClient;
}

/** Where the processor's quarantine goes without a local Firehose: a closed port, so sends fail and retry. */
const NO_FIREHOSE = 'http://127.0.0.1:9';

/**
 * Starts everything; `stop()` undoes it.
 *
 * @example
 * ```ts
 * const cloud = await LocalCloud.start({ config: resolveConfig({}), dataDir: '.shardline' });
 * // ...produce to cloud.streamName with kinesisClient(cloud.clientOptions('kinesis'))...
 * await cloud.drain({ timeoutMs: 60_000 });
 * await cloud.stop();
 * ```
 */
export class LocalCloud {
  readonly config: ResolvedConfig;
  readonly dataDir: string;
  readonly region: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly tableName: string;
  readonly archiveDir: string;
  readonly endpoints: CloudEndpoints;
  readonly esm: EventSourceMapping | null;
  readonly firehose: LocalFirehose | null;
  /** The ingest HTTP endpoint, or null when started with `ingest: false`. */
  readonly ingest: LocalIngest | null;
  /** The MQTT broker and device rule, or null when started with `mqtt: false`. */
  readonly mqtt: LocalMqtt | null;
  /** The AWS APIs of `--target aws`, or null when started with `awsApis: false`. */
  readonly apis: LocalApis | null;
  readonly #emulators: Emulator[];
  readonly #clients: CloudClients;
  #stopping: Promise<void> | undefined;

  private constructor(args: {
    config: ResolvedConfig;
    dataDir: string;
    emulators: Emulator[];
    endpoints: CloudEndpoints;
    esm: EventSourceMapping | null;
    firehose: LocalFirehose | null;
    ingest: LocalIngest | null;
    mqtt: LocalMqtt | null;
    apis: LocalApis | null;
    clients: CloudClients;
  }) {
    this.config = args.config;
    this.dataDir = args.dataDir;
    this.region = args.config.region;
    this.streamName = args.config.stream.name;
    this.streamArn = streamArn(args.config);
    this.tableName = args.config.table.name;
    this.archiveDir = join(args.dataDir, 's3', args.config.archive.bucket);
    this.endpoints = args.endpoints;
    this.esm = args.esm;
    this.firehose = args.firehose;
    this.ingest = args.ingest;
    this.mqtt = args.mqtt;
    this.apis = args.apis;
    this.#emulators = args.emulators;
    this.#clients = args.clients;
  }

  static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    // The names a stack of this name would have on AWS (the config's own for the default stack).
    const config = namesForStack(options.config, options.stackName);
    const dataDir = resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const log = options.log ?? (() => undefined);
    const emulators: Emulator[] = [];
    const clients: Partial<CloudClients> = {};
    let esm: EventSourceMapping | null = null;
    let firehose: LocalFirehose | null = null;
    let ingest: LocalIngest | null = null;
    let mqtt: LocalMqtt | null = null;
    let apis: LocalApis | null = null;
    try {
      const thread = options.emulatorThreads ?? false;
      const kinesis = options.external?.kinesis
        ? externalEmulator(options.external.kinesis)
        : await startKinesis({ dataDir, thread });
      emulators.push(kinesis);
      const dynamo = options.external?.dynamodb
        ? externalEmulator(options.external.dynamodb)
        : await startDynamo({ dataDir, thread });
      emulators.push(dynamo);
      const emulated = {
        region: config.region,
        endpoints: { kinesis: kinesis.endpoint, dynamodb: dynamo.endpoint },
      };
      clients.kinesis = kinesisClient(localClientOptions(emulated, 'kinesis'));
      clients.dynamodb = dynamodbClient(localClientOptions(emulated, 'dynamodb'));
      await ensureStream(clients.kinesis, config);
      await ensureTable(clients.dynamodb, config.table.name);
      log(`[cloud] kinesis ${kinesis.endpoint}, dynamodb ${dynamo.endpoint}, stream ${config.stream.name}`);

      if (options.firehose ?? true) {
        firehose = await LocalFirehose.start({
          ...options.firehoseTuning,
          config,
          dataDir,
          kinesisClient: clients.kinesis,
          region: config.region,
          log,
        });
      }
      const connection: LocalConnection = {
        config,
        clientOptions: (service) =>
          localClientOptions(
            {
              ...emulated,
              endpoints: { ...emulated.endpoints, firehose: firehose?.endpoint ?? NO_FIREHOSE },
            },
            service,
          ),
      };

      if (options.esm ?? true) {
        let handler = options.handler ?? options.buildHandler?.(connection);
        if (handler === undefined) {
          clients.firehose = firehoseClient(connection.clientOptions('firehose'));
          const { createProcessor, lambdaHandler } = await import('../../processors/handler.ts');
          handler = lambdaHandler(
            createProcessor({ config, clients: { dynamodb: clients.dynamodb, firehose: clients.firehose } }),
          );
        }
        esm = await EventSourceMapping.start({
          ...options.esmTuning,
          eventSource: config.eventSource,
          streamName: config.stream.name,
          streamArn: streamArn(config),
          kinesis: options.esmKinesisClient?.(connection.clientOptions('kinesis')) ?? clients.kinesis,
          handler,
          stateDir: join(dataDir, 'esm', LOCAL_FUNCTION_NAME),
          region: config.region,
          functionArn: `arn:aws:lambda:${config.region}:${LOCAL_ACCOUNT}:function:${LOCAL_FUNCTION_NAME}`,
          onFailureDir: join(dataDir, 'onfailure'),
          log,
        });
      }
      if (options.ingest ?? true) {
        ingest = await LocalIngest.start({
          streamName: config.stream.name,
          kinesis: clients.kinesis,
          // The public endpoint's rules, as API Gateway applies them on AWS.
          allowedOrigins: config.ingest.allowedOrigins,
          policy: webIngestPolicy(config.ingest),
          port: options.ingestPort ?? 0,
          log,
        });
      }
      if (options.mqtt ?? true) {
        mqtt = await LocalMqtt.start({
          config,
          kinesis: clients.kinesis,
          quarantine: firehose ? connection.clientOptions('firehose') : null,
          port: options.mqttPort ?? 0,
          log,
          ...(options.mqttTuning === undefined ? {} : { tuning: options.mqttTuning }),
        });
      }
      if (options.awsApis ?? true) {
        apis = await startLocalApis({
          config,
          dataDir,
          functionName: LOCAL_FUNCTION_NAME,
          ingestUrl: ingest?.url ?? null,
          ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
        });
      }
      const cloud = new LocalCloud({
        config,
        dataDir,
        emulators,
        endpoints: {
          kinesis: kinesis.endpoint,
          dynamodb: dynamo.endpoint,
          firehose: firehose?.endpoint ?? null,
          ingest: ingest?.endpoint ?? null,
          athena: apis?.endpoints.athena ?? null,
          cloudformation: apis?.endpoints.cloudformation ?? null,
          sqs: apis?.endpoints.sqs ?? null,
        },
        esm,
        firehose,
        ingest,
        mqtt,
        apis,
        clients: { kinesis: clients.kinesis, dynamodb: clients.dynamodb, firehose: clients.firehose },
      });
      writeJsonAtomic(join(dataDir, 'cloud.json'), cloud.info());
      return cloud;
    } catch (err) {
      await mqtt?.stop().catch(() => undefined);
      await apis?.close().catch(() => undefined);
      await ingest?.stop().catch(() => undefined);
      await esm?.stop().catch(() => undefined);
      await firehose?.stop().catch(() => undefined);
      for (const e of emulators.reverse()) await e.close().catch(() => undefined);
      clients.kinesis?.destroy();
      clients.dynamodb?.destroy();
      clients.firehose?.destroy();
      if (err instanceof ServiceError) throw err;
      throw new ServiceError(`local cloud failed to start in ${dataDir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Where web clients POST events, `http://127.0.0.1:<port>/ingest`; null without the ingest endpoint. */
  get ingestUrl(): string | null {
    return this.ingest?.url ?? null;
  }

  /** What `cloud.json` holds. */
  info(): CloudInfo {
    return {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      region: this.region,
      endpoints: this.endpoints,
      stackName: this.apis?.stackName ?? null,
      ingestUrl: this.ingestUrl,
      mqttUrl: this.mqtt?.url ?? null,
      streamName: this.streamName,
      streamArn: this.streamArn,
      tableName: this.tableName,
      archiveDir: this.archiveDir,
    };
  }

  /**
   * Options for a `common/aws.ts` client of `service` on this cloud (region, endpoint, placeholder
   * credentials), e.g. `kinesisClient(cloud.clientOptions('kinesis'))`. Without a local Firehose, the
   * Firehose options carry no endpoint.
   */
  clientOptions(service: LocalService): ClientOptions {
    return localClientOptions(this, service);
  }

  /** Environment for another process to use this cloud. */
  env(): Record<string, string> {
    const out: Record<string, string> = {
      AWS_ENDPOINT_URL_KINESIS: this.endpoints.kinesis,
      AWS_ENDPOINT_URL_DYNAMODB: this.endpoints.dynamodb,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      SHARDLINE_CONFIG: JSON.stringify(this.config),
      SHARDLINE_TABLE: this.tableName,
      SHARDLINE_QUARANTINE_STREAM: this.config.quarantine.deliveryStreamName,
    };
    if (this.endpoints.firehose !== null) out.AWS_ENDPOINT_URL_FIREHOSE = this.endpoints.firehose;
    if (this.endpoints.athena !== null) out.AWS_ENDPOINT_URL_ATHENA = this.endpoints.athena;
    if (this.endpoints.cloudformation !== null)
      out.AWS_ENDPOINT_URL_CLOUDFORMATION = this.endpoints.cloudformation;
    if (this.endpoints.sqs !== null) out.AWS_ENDPOINT_URL_SQS = this.endpoints.sqs;
    return out;
  }

  stats(): LocalCloudStats {
    return {
      esm: this.esm?.stats() ?? null,
      firehose: this.firehose?.stats() ?? null,
      mqtt: this.mqtt?.stats() ?? null,
    };
  }

  /**
   * Waits until the mapping has processed everything in the stream, then until Firehose delivered it.
   * With `closeWindows`, open tumbling windows are ended once caught up, so what they carried is written.
   */
  async drain(options: { timeoutMs?: number; closeWindows?: boolean } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const started = Date.now();
    await this.mqtt?.drain();
    await this.esm?.drain({ timeoutMs, closeWindows: options.closeWindows ?? false });
    await this.firehose?.drain({ timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) });
  }

  /** Stops the mapping, Firehose and emulators, removes `cloud.json`. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.mqtt?.stop();
      await this.apis?.close();
      await this.ingest?.stop();
      await this.esm?.stop();
      await this.firehose?.stop();
      this.#clients.kinesis.destroy();
      this.#clients.dynamodb.destroy();
      this.#clients.firehose?.destroy();
      for (const e of [...this.#emulators].reverse()) await e.close();
      const file = join(this.dataDir, 'cloud.json');
      if (existsSync(file)) rmSync(file);
    })();
    return this.#stopping;
  }
}

/** `arn:aws:kinesis:<region>:000000000000:stream/<name>`. */
export function streamArn(config: ResolvedConfig): string {
  return localStreamArn(config.region, config.stream.name);
}
