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
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  aws_lambda_event_sources as sources,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../outputs.ts';
import { ResourceGroup } from './private/logical-id.ts';
import { REPO_ROOT } from './private/repo.ts';

/** DynamoDB actions the processor needs on the aggregates table: read watermarks, conditional puts. */
export const PROCESSOR_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
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
  /** Names of the table's global secondary indexes the processor reads. */
  readonly indexNames: readonly string[];
  /** Where the processor puts quarantined records. */
  readonly quarantine: firehose.IDeliveryStream;
  /** Entry file exporting `handler`. */
  readonly handlerEntry: string;
  /** Memory in MiB, 128–10,240. */
  readonly memorySizeMiB: number;
  /** Reserved concurrency; `undefined` reserves none. */
  readonly reservedConcurrency: number | undefined;
}

/**
 * The processor Lambda function and what it reads from and writes to.
 *
 * @example
 * ```ts
 * const processing = new Processor(this, 'Processing', {
 *   config, stream, table, indexNames: ['byRollupTime'], quarantine: delivery.quarantine,
 *   handlerEntry, memorySizeMiB: 1024, reservedConcurrency: 4,
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
    this.logGroup = new logs.LogGroup(this, 'ProcessorLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
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
    // Least privilege: the table and its indexes by name (Table.grant would add `index/*`).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...PROCESSOR_TABLE_ACTIONS],
        resources: [table.tableArn, ...props.indexNames.map((name) => `${table.tableArn}/index/${name}`)],
      }),
    );
    props.quarantine.grantPutRecords(this.function);
    const es = config.eventSource;
    this.function.addEventSource(
      new sources.KinesisEventSource(props.stream, {
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
        onFailure: new sources.SqsDlq(this.onFailureQueue),
      }),
    );
  }
}
