/**
 * The whole Shardline pipeline on AWS, derived from one {@link ResolvedConfig}:
 * Kinesis (KMS) -> processor Lambda (event source mapping, SQS on-failure) -> DynamoDB aggregates;
 * Firehose (Kinesis source) -> S3 `raw/` Parquet -> Glue (partition projection) -> Athena workgroup;
 * quarantine Firehose (Direct PUT) -> S3 `quarantine/`; alarms and a dashboard.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Aws,
  aws_athena as athena,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  Duration,
  aws_dynamodb as dynamodb,
  aws_kinesisfirehose as firehose,
  aws_glue as glue,
  aws_iam as iam,
  aws_kinesis as kinesis,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_lambda_event_sources as sources,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ARCHIVE_COLUMNS } from '../../../common/envelope.ts';
import { ConfigError } from '../../../common/errors.ts';
import { QUARANTINE_COLUMNS } from '../../../common/quarantine.ts';
import { TTL_ATTRIBUTE, tableDefinition } from '../../../common/table.ts';
import {
  DEFAULT_STACK_NAME,
  METRICS_NAMESPACE,
  QUARANTINED_METRIC,
  SERVICE_NAME,
  STACK_OUTPUTS,
  type StackOutputKey,
} from '../outputs.ts';
import { type CatalogQuery, readCatalog } from './catalog.ts';
import { IngestApi } from './ingest.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { PARTITION_COLUMN, projectionFromPrefix, projectionParameters } from './partition.ts';

/** Repository root (this file is `infra/aws/lib/shardline-stack.ts`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** DynamoDB actions the processor needs on the aggregates table: read watermarks, conditional puts. */
export const PROCESSOR_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
] as const;

/** Properties of {@link ShardlineStack}. Everything about the pipeline itself comes from `config`. */
export interface ShardlineStackProps extends StackProps {
  /** The resolved pipeline configuration (`resolveConfig(...)`). */
  readonly config: ResolvedConfig;
  /**
   * Processor entry file exporting `handler`. Tests point this at a tiny file.
   * @default `<repo>/processors/handler.ts`
   */
  readonly handlerEntry?: string;
  /**
   * Folder of catalog `.sql` files; one Athena named query each. A missing folder means none.
   * @default `<repo>/queries/catalog`
   */
  readonly catalogDir?: string;
  /**
   * First partition (UTC) of the archive tables' `dt` projection range; the range ends at `NOW`.
   * @default 2025-01-01T00:00:00Z
   */
  readonly archiveStart?: Date;
  /**
   * Processor memory in MiB, 128–10,240.
   * @default 1024
   */
  readonly memorySizeMiB?: number;
  /**
   * Reserve concurrency for the processor: shard count × parallelization factor (PROVISIONED streams only).
   * Turn off on accounts whose concurrency limit is too low to reserve any (new accounts have 10).
   * @default true
   */
  readonly reserveConcurrency?: boolean;
  /**
   * Alarm when the processor's IteratorAge (Maximum over 1 minute) exceeds this many seconds, 1–604,800.
   * @default 300
   */
  readonly iteratorAgeAlarmSeconds?: number;
  /**
   * Alarm when more than this many records are quarantined in 5 minutes, 0–1e9.
   * @default 0 (any quarantined record alarms)
   */
  readonly quarantineAlarmThreshold?: number;
  /**
   * Keep the table and buckets when the stack is deleted.
   * @default true
   */
  readonly retainData?: boolean;
}

interface ResolvedStackProps {
  handlerEntry: string;
  catalogDir: string;
  archiveStart: Date;
  memorySizeMiB: number;
  reserveConcurrency: boolean;
  iteratorAgeAlarmSeconds: number;
  quarantineAlarmThreshold: number;
  retainData: boolean;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}; received ${value}`);
  }
  return value;
}

/** Applies the defaults of {@link ShardlineStackProps} once and validates them. */
export function resolveStackProps(props: Omit<ShardlineStackProps, 'config'>): ResolvedStackProps {
  const archiveStart = props.archiveStart ?? new Date(Date.UTC(2025, 0, 1));
  if (Number.isNaN(archiveStart.getTime()))
    throw new ConfigError('archiveStart must be a valid date; received Invalid Date');
  return {
    handlerEntry: props.handlerEntry ?? join(REPO_ROOT, 'processors', 'handler.ts'),
    catalogDir: props.catalogDir ?? join(REPO_ROOT, 'queries', 'catalog'),
    archiveStart,
    memorySizeMiB: inRange('memorySizeMiB', props.memorySizeMiB ?? 1024, 128, 10_240),
    reserveConcurrency: props.reserveConcurrency ?? true,
    iteratorAgeAlarmSeconds: inRange(
      'iteratorAgeAlarmSeconds',
      props.iteratorAgeAlarmSeconds ?? 300,
      1,
      604_800,
    ),
    quarantineAlarmThreshold: inRange(
      'quarantineAlarmThreshold',
      props.quarantineAlarmThreshold ?? 0,
      0,
      1e9,
    ),
    retainData: props.retainData ?? true,
  };
}

/** Lambda environment variables are capped at 4 KB in total. */
const LAMBDA_ENV_LIMIT_BYTES = 4096;

/**
 * The Shardline pipeline stack.
 *
 * @example
 * ```ts
 * const app = new App();
 * new ShardlineStack(app, 'Shardline', { config: resolveConfig({ stream: { shardCount: 2 } }) });
 * ```
 */
export class ShardlineStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly table: dynamodb.Table;
  readonly processor: nodejs.NodejsFunction;
  readonly archiveBucket: s3.Bucket;
  readonly archiveDeliveryStream: firehose.DeliveryStream;
  readonly quarantineDeliveryStream: firehose.DeliveryStream;
  readonly onFailureQueue: sqs.Queue;
  readonly workgroup: athena.CfnWorkGroup;
  readonly catalogQueries: readonly CatalogQuery[];
  readonly alarms: readonly cloudwatch.Alarm[];
  /** `POST /ingest` (API Gateway → Kinesis PutRecords) for web clients. */
  readonly ingest: IngestApi;

  constructor(scope: Construct, id: string = DEFAULT_STACK_NAME, props: ShardlineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const opts = resolveStackProps(props);
    const removalPolicy = opts.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const rawProjection = projectionFromPrefix(config.archive.rawPrefix);
    const quarantineProjection = projectionFromPrefix(config.quarantine.prefix);

    // --- Kinesis ---
    const onDemand = config.stream.mode === 'ON_DEMAND';
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: config.stream.name,
      streamMode: onDemand ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount: onDemand ? undefined : config.stream.shardCount,
      retentionPeriod: Duration.hours(config.stream.retentionHours),
      // The AWS managed key (aws/kinesis): no key policy to manage, no per-consumer grants (cdk-nag KDS3).
      encryption: kinesis.StreamEncryption.MANAGED,
    });

    // --- DynamoDB aggregates (layout from common/table.ts) ---
    const def = tableDefinition(config.table.name);
    const attrType = (name: string): dynamodb.AttributeType => {
      const a = def.AttributeDefinitions.find((d) => d.AttributeName === name);
      if (!a) throw new ConfigError(`tableDefinition has no attribute definition for "${name}"`);
      return a.AttributeType === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
    };
    const keyOf = (
      schema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[],
      type: 'HASH' | 'RANGE',
    ) => {
      const k = schema.find((s) => s.KeyType === type);
      return k ? { name: k.AttributeName, type: attrType(k.AttributeName) } : undefined;
    };
    this.table = new dynamodb.Table(this, 'Aggregates', {
      tableName: def.TableName,
      partitionKey: keyOf(def.KeySchema, 'HASH')!,
      sortKey: keyOf(def.KeySchema, 'RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
    for (const gsi of def.GlobalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName,
        partitionKey: keyOf(gsi.KeySchema, 'HASH')!,
        sortKey: keyOf(gsi.KeySchema, 'RANGE'),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // --- S3 buckets ---
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [
        { expiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    this.archiveBucket = new s3.Bucket(this, 'Archive', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            // Glacier Instant Retrieval stays queryable by Athena.
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(180) },
          ],
        },
      ],
      removalPolicy,
    });
    const results = new s3.Bucket(this, 'AthenaResults', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        { expiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });

    // --- Glue catalog ---
    const database = new glue.CfnDatabase(this, 'GlueDatabase', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: config.athena.database,
        description: 'Shardline archive (raw events, quarantine)',
      },
    });
    const parquet = config.archive.format === 'parquet';
    const eventsTable = new glue.CfnTable(this, 'EventsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: config.athena.database,
      tableInput: {
        name: config.archive.tableName,
        description: 'Raw events archived by Firehose (one row per envelope, hour partitions by arrival)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: PARTITION_COLUMN, type: 'string', comment: 'arrival hour (UTC)' }],
        parameters: {
          EXTERNAL: 'TRUE',
          classification: parquet ? 'parquet' : 'json',
          ...(config.archive.format === 'json.gz' ? { compressionType: 'gzip' } : {}),
          ...projectionParameters(rawProjection, this.archiveBucket.bucketName, opts.archiveStart),
        },
        storageDescriptor: {
          location: `s3://${this.archiveBucket.bucketName}/${rawProjection.basePrefix}`,
          columns: ARCHIVE_COLUMNS.map((c) => ({ name: c.name, type: c.glueType, comment: c.comment })),
          ...(parquet
            ? {
                inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
                outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
                serdeInfo: {
                  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
                },
              }
            : jsonStorage()),
        },
      },
    });
    eventsTable.addDependency(database);
    const quarantineTable = new glue.CfnTable(this, 'QuarantineTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: config.athena.database,
      tableInput: {
        name: config.quarantine.tableName,
        description: 'Records the processor quarantined, with reason, shard and sequence number (JSON lines)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: PARTITION_COLUMN, type: 'string', comment: 'arrival hour (UTC)' }],
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'json',
          ...projectionParameters(quarantineProjection, this.archiveBucket.bucketName, opts.archiveStart),
        },
        storageDescriptor: {
          location: `s3://${this.archiveBucket.bucketName}/${quarantineProjection.basePrefix}`,
          columns: QUARANTINE_COLUMNS.map((c) => ({ name: c.name, type: c.glueType })),
          ...jsonStorage(),
        },
      },
    });
    quarantineTable.addDependency(database);

    // --- Firehose: archive (Kinesis source) ---
    this.archiveDeliveryStream = new firehose.DeliveryStream(this, 'ArchiveDelivery', {
      deliveryStreamName: config.archive.deliveryStreamName,
      source: new firehose.KinesisStreamSource(this.stream),
      destination: new firehose.S3Bucket(this.archiveBucket, {
        dataOutputPrefix: config.archive.rawPrefix,
        errorOutputPrefix: config.archive.errorPrefix,
        bufferingInterval: Duration.seconds(config.archive.bufferIntervalSeconds),
        bufferingSize: Size.mebibytes(config.archive.bufferSizeMiB),
        ...(parquet
          ? {
              fileExtension: '.parquet',
              dataFormatConversion: {
                schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(eventsTable),
                inputFormat: firehose.InputFormat.OPENX_JSON,
                outputFormat: firehose.OutputFormat.PARQUET,
              },
            }
          : config.archive.format === 'json.gz'
            ? { compression: firehose.Compression.GZIP, fileExtension: '.json.gz' }
            : { fileExtension: '.json' }),
      }),
    });

    // --- Firehose: quarantine (Direct PUT) ---
    this.quarantineDeliveryStream = new firehose.DeliveryStream(this, 'QuarantineDelivery', {
      deliveryStreamName: config.quarantine.deliveryStreamName,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(this.archiveBucket, {
        dataOutputPrefix: config.quarantine.prefix,
        errorOutputPrefix: `${quarantineProjection.basePrefix.replace(/\/$/, '')}-errors/!{firehose:error-output-type}/${PARTITION_COLUMN}=!{timestamp:${quarantineProjection.format}}/`,
        bufferingInterval: Duration.seconds(config.quarantine.bufferIntervalSeconds),
        bufferingSize: Size.mebibytes(config.quarantine.bufferSizeMiB),
        fileExtension: '.json',
      }),
    });

    // --- Processor Lambda ---
    this.onFailureQueue = new sqs.Queue(this, 'OnFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const logGroup = new logs.LogGroup(this, 'ProcessorLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'ProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Shardline processor: read the stream, write aggregates, quarantine, on-failure queue',
    });
    logGroup.grantWrite(role);
    const env = {
      SHARDLINE_TABLE: this.table.tableName,
      SHARDLINE_QUARANTINE_STREAM: this.quarantineDeliveryStream.deliveryStreamName,
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
    const reserved =
      opts.reserveConcurrency && !onDemand
        ? config.stream.shardCount * config.eventSource.parallelizationFactor
        : undefined;
    this.processor = new nodejs.NodejsFunction(this, 'Processor', {
      entry: opts.handlerEntry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: opts.memorySizeMiB,
      timeout: Duration.seconds(config.eventSource.functionTimeoutSeconds),
      reservedConcurrentExecutions: reserved,
      role,
      logGroup,
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
    // Least privilege: the table and its one index by name (Table.grant would add `index/*`).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...PROCESSOR_TABLE_ACTIONS],
        resources: [
          this.table.tableArn,
          ...def.GlobalSecondaryIndexes.map((gsi) => `${this.table.tableArn}/index/${gsi.IndexName}`),
        ],
      }),
    );
    this.quarantineDeliveryStream.grantPutRecords(this.processor);
    const es = config.eventSource;
    this.processor.addEventSource(
      new sources.KinesisEventSource(this.stream, {
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

    // --- Athena ---
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: config.athena.workgroup,
      description: 'Shardline: queries over the archive',
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${results.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    this.catalogQueries = readCatalog(opts.catalogDir);
    for (const [i, q] of this.catalogQueries.entries()) {
      const nq = new athena.CfnNamedQuery(this, `Query${i}${q.name.replace(/[^A-Za-z0-9]/g, '')}`, {
        name: q.name,
        description: q.description,
        database: config.athena.database,
        workGroup: this.workgroup.ref,
        queryString: q.sql,
      });
      nq.addDependency(this.workgroup);
    }

    // --- Alarms ---
    const quarantined = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: QUARANTINED_METRIC,
      dimensionsMap: { service: SERVICE_NAME },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    const iteratorAge = this.processor.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      periods = 1,
    ) =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    this.alarms = [
      alarm(
        'IteratorAgeAlarm',
        iteratorAge,
        opts.iteratorAgeAlarmSeconds * 1000,
        'Processor is falling behind the stream',
        3,
      ),
      alarm(
        'ErrorsAlarm',
        this.processor.metricErrors({ period: Duration.minutes(5) }),
        0,
        'Processor invocations failed',
      ),
      alarm(
        'ThrottlesAlarm',
        this.processor.metricThrottles({ period: Duration.minutes(5) }),
        0,
        'Processor invocations were throttled',
      ),
      alarm(
        'WriteThrottleAlarm',
        this.stream.metricWriteProvisionedThroughputExceeded({
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        0,
        'Producers are throttled: add shards',
      ),
      alarm(
        'OnFailureQueueAlarm',
        this.onFailureQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        0,
        'Batches were discarded after retries; see the on-failure queue',
      ),
      alarm(
        'ArchiveFreshnessAlarm',
        this.archiveDeliveryStream.metric('DeliveryToS3.DataFreshness', {
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        config.archive.bufferIntervalSeconds + 900,
        'Firehose archive delivery to S3 is late',
      ),
      alarm(
        'QuarantineAlarm',
        quarantined,
        opts.quarantineAlarmThreshold,
        `More than ${opts.quarantineAlarmThreshold} records quarantined in 5 minutes`,
      ),
    ];

    // --- Dashboard ---
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${id}-pipeline`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Stream: incoming records',
        left: [this.stream.metricIncomingRecords({ statistic: 'Sum', period: Duration.minutes(1) })],
        right: [
          this.stream.metricWriteProvisionedThroughputExceeded({
            statistic: 'Sum',
            period: Duration.minutes(1),
          }),
        ],
      }),
      new cloudwatch.GraphWidget({ title: 'Processor: iterator age (ms)', left: [iteratorAge] }),
      new cloudwatch.GraphWidget({
        title: 'Processor: invocations, errors, throttles',
        left: [
          this.processor.metricInvocations({ period: Duration.minutes(1) }),
          this.processor.metricErrors({ period: Duration.minutes(1) }),
          this.processor.metricThrottles({ period: Duration.minutes(1) }),
        ],
        right: [this.processor.metricDuration({ statistic: 'p99', period: Duration.minutes(1) })],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Aggregates table: consumed capacity',
        left: [
          this.table.metricConsumedWriteCapacityUnits({ period: Duration.minutes(1) }),
          this.table.metricConsumedReadCapacityUnits({ period: Duration.minutes(1) }),
        ],
      }),
      new cloudwatch.GraphWidget({ title: 'Quarantined records', left: [quarantined] }),
      new cloudwatch.GraphWidget({
        title: 'Archive: data freshness (s)',
        left: [this.archiveDeliveryStream.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum' })],
        right: [this.onFailureQueue.metricApproximateNumberOfMessagesVisible()],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 }),
    );

    // --- Ingest endpoint for web clients (API Gateway -> Kinesis PutRecords) ---
    this.ingest = new IngestApi(this, 'Ingest', { stream: this.stream, removalPolicy });

    // --- Outputs ---
    const outputs: Record<StackOutputKey, string> = {
      region: Aws.REGION,
      streamName: this.stream.streamName,
      streamArn: this.stream.streamArn,
      tableName: this.table.tableName,
      archiveDeliveryStreamName: this.archiveDeliveryStream.deliveryStreamName,
      quarantineDeliveryStreamName: this.quarantineDeliveryStream.deliveryStreamName,
      archiveBucketName: this.archiveBucket.bucketName,
      resultsBucketName: results.bucketName,
      glueDatabase: config.athena.database,
      eventsTable: config.archive.tableName,
      quarantineTable: config.quarantine.tableName,
      workgroup: this.workgroup.ref,
      functionName: this.processor.functionName,
      dlqUrl: this.onFailureQueue.queueUrl,
      dashboardName: dashboard.dashboardName,
      ingestUrl: this.ingest.url,
      ingestApiKeyId: this.ingest.apiKey.keyId,
    };
    for (const [k, value] of Object.entries(outputs)) {
      new CfnOutput(this, STACK_OUTPUTS[k as StackOutputKey], { value });
    }

    acknowledgeNagFindings({
      accessLogs,
      archiveDelivery: this.archiveDeliveryStream,
      quarantineDelivery: this.quarantineDeliveryStream,
      onFailureQueue: this.onFailureQueue,
      archiveBucket: this.archiveBucket,
    });
  }
}

function jsonStorage() {
  return {
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serdeInfo: {
      serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      parameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'true' },
    },
  };
}
