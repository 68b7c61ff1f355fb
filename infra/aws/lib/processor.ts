/**
 * The processor: the Lambda function (bundled from `processors/handler.ts`), its role, its log group, the
 * Kinesis event source mapping from `config.eventSource`, and the SQS queue that receives the metadata of
 * batches discarded after retries.
 */
import { join } from 'node:path';
import {
  Duration,
  type aws_dynamodb as dynamodb,
  type aws_kinesisfirehose as firehose,
  aws_iam as iam,
  type aws_kinesis as kinesis,
  aws_lambda as lambda,
  aws_logs as logs,
  Names,
  aws_lambda_nodejs as nodejs,
  type RemovalPolicy,
  aws_lambda_event_sources as sources,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../outputs.ts';
import { acknowledgeNag } from './nag.ts';
import { ResourceGroup } from './private/logical-id.ts';
import { REPO_ROOT } from './private/repo.ts';

/**
 * DynamoDB actions the processor calls on the aggregates table (`processors/adapters/store.ts`): read
 * watermarks and states, conditional puts. It reads no index.
 */
export const PROCESSOR_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchGetItem',
] as const;

/** Firehose actions the processor calls on the quarantine delivery stream (`processors/adapters/quarantine.ts`). */
export const PROCESSOR_QUARANTINE_ACTIONS = ['firehose:PutRecordBatch'] as const;

/**
 * Kinesis actions the event source mapping needs on the stream, with the function's role: describe it,
 * list its shards, read them (lambda/latest/dg/with-kinesis.html, execution role permissions).
 * `kinesis:SubscribeToShard` is for enhanced fan-out consumers only, which this mapping is not.
 */
export const PROCESSOR_STREAM_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;

/** Lambda environment variables are capped at 4 KB in total. */
const LAMBDA_ENV_LIMIT_BYTES = 4096;

/** Properties of {@link Processor}. */
export interface ProcessorProps {
  /** Serialized into the function's environment (`SHARDLINE_CONFIG`); the event source comes from here. */
  readonly config: ResolvedConfig;
  /** The stream the event source mapping reads. */
  readonly stream: kinesis.IStream;
  /** The aggregates table. */
  readonly table: dynamodb.ITable;
  /** Where the processor puts quarantined records. */
  readonly quarantine: firehose.IDeliveryStream;
  /** Entry file exporting `handler`. */
  readonly handlerEntry: string;
  /** Memory in MiB, 128–10,240. */
  readonly memorySizeMiB: number;
  /** Reserved concurrency; `undefined` reserves none. */
  readonly reservedConcurrency: number | undefined;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log group. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The processor Lambda function and what it reads from and writes to.
 *
 * @example
 * ```ts
 * const processing = new Processor(this, 'Processing', {
 *   config, stream, table, quarantine: delivery.quarantine, handlerEntry, memorySizeMiB: 1024,
 *   reservedConcurrency: 4, logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN,
 * });
 * ```
 */
export class Processor extends ResourceGroup {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Receives the metadata of batches the event source mapping discarded after retries. */
  readonly onFailureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ProcessorProps) {
    super(scope, id);
    const { config, table } = props;
    this.onFailureQueue = new sqs.Queue(this, 'OnFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(this.onFailureQueue, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter (on-failure) destination of the event source mapping.',
    });
    this.logGroup = new logs.LogGroup(this, 'ProcessorLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'ProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Shardline processor: read the stream, write aggregates, quarantine, on-failure queue',
    });
    this.logGroup.grantWrite(this.role);
    const env = {
      SHARDLINE_TABLE: table.tableName,
      SHARDLINE_QUARANTINE_STREAM: props.quarantine.deliveryStreamName,
      SHARDLINE_CONFIG: JSON.stringify(config),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const envBytes = Object.entries(env).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    if (envBytes > LAMBDA_ENV_LIMIT_BYTES - 512) {
      throw new ConfigError(
        `the processor's environment (SHARDLINE_CONFIG holds the resolved config) must stay under ${LAMBDA_ENV_LIMIT_BYTES - 512} bytes to fit Lambda's 4 KB limit; received ${envBytes} bytes (fewer rollups?)`,
      );
    }
    this.function = new nodejs.NodejsFunction(this, 'Processor', {
      entry: props.handlerEntry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMiB,
      timeout: Duration.seconds(config.eventSource.functionTimeoutSeconds),
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: env,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: one tested version instead of the runtime's.
        externalModules: [],
        minify: true,
        sourceMap: true,
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    // Least privilege: what the code calls, on the resources it calls it on (Table.grant would add
    // `index/*`, grantPutRecords `firehose:PutRecord`, stream.grantRead `ListStreams` and `SubscribeToShard`).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...PROCESSOR_TABLE_ACTIONS], resources: [table.tableArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...PROCESSOR_QUARANTINE_ACTIONS],
        resources: [props.quarantine.deliveryStreamArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...PROCESSOR_STREAM_ACTIONS],
        resources: [props.stream.streamArn],
      }),
    );
    props.stream.encryptionKey?.grantDecrypt(this.role);
    acknowledgeNag(this.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have no resource-level ' +
        'permissions (service-authorization reference for AWS X-Ray).',
    });
    const es = config.eventSource;
    // The mapping KinesisEventSource would make (same id, so the same logical ID), without its
    // stream.grantRead: the statement above grants what the mapping needs.
    this.function.addEventSourceMapping(`KinesisEventSource:${Names.nodeUniqueId(props.stream.node)}`, {
      eventSourceArn: props.stream.streamArn,
      batchSize: es.batchSize,
      maxBatchingWindow: Duration.seconds(es.maximumBatchingWindowInSeconds),
      startingPosition: lambda.StartingPosition[es.startingPosition],
      startingPositionTimestamp:
        es.startingPosition === 'AT_TIMESTAMP' ? es.startingPositionTimestamp : undefined,
      bisectBatchOnError: es.bisectBatchOnFunctionError,
      retryAttempts: es.maximumRetryAttempts === -1 ? undefined : es.maximumRetryAttempts,
      maxRecordAge:
        es.maximumRecordAgeInSeconds === -1 ? undefined : Duration.seconds(es.maximumRecordAgeInSeconds),
      reportBatchItemFailures: es.reportBatchItemFailures,
      parallelizationFactor: es.parallelizationFactor,
      // Lambda tumbling windows: the processor carries onClose rollups in the window's state.
      tumblingWindow:
        es.tumblingWindowInSeconds > 0 ? Duration.seconds(es.tumblingWindowInSeconds) : undefined,
      onFailure: new sources.SqsDlq(this.onFailureQueue),
    });
  }
}
