/**
 * The whole Shardline pipeline on AWS, derived from one resolved config (`common/config.ts`):
 * Kinesis (KMS) -> processor Lambda (event source mapping, SQS on-failure) -> DynamoDB aggregates;
 * Firehose (Kinesis source) -> S3 `raw/` Parquet -> Glue (partition projection) -> Athena workgroup;
 * quarantine Firehose (Direct PUT) -> S3 `quarantine/`; alarms and a dashboard.
 */
import {
  Aws,
  type aws_athena as athena,
  type CfnElement,
  CfnOutput,
  type aws_cloudwatch as cloudwatch,
  Duration,
  aws_dynamodb as dynamodb,
  type aws_kinesisfirehose as firehose,
  aws_kinesis as kinesis,
  type aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  type aws_s3 as s3,
  type aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ConfigError } from '../../../common/errors.ts';
import { deviceMapping } from '../../../common/iot.ts';
import { TTL_ATTRIBUTE, tableDefinition } from '../../../common/table.ts';
import { DEFAULT_STACK_NAME, STACK_OUTPUTS, type StackOutputKey } from '../outputs.ts';
import { ArchiveCatalog } from './archive-catalog.ts';
import type { CatalogQuery } from './catalog.ts';
import { ArchiveDelivery } from './delivery.ts';
import { IngestApi, ingestThrottle } from './ingest.ts';
import { DeviceIngest } from './iot.ts';
import { Monitoring } from './monitoring.ts';
import { logicalIdPath, makeLogicalId, type ResourceGroup } from './private/logical-id.ts';
import { REPO_ROOT } from './private/repo.ts';
import { PROCESSOR_TABLE_ACTIONS, Processor } from './processor.ts';
import { resolveStackProps, type ShardlineStackProps } from './stack-props.ts';
import { ArchiveStorage } from './storage.ts';

export { PROCESSOR_TABLE_ACTIONS, REPO_ROOT, resolveStackProps, type ShardlineStackProps };

/**
 * The Shardline pipeline stack: the stream and the aggregates table, and one construct per responsibility
 * ({@link ArchiveStorage}, {@link ArchiveCatalog}, {@link ArchiveDelivery}, {@link Processor},
 * {@link Monitoring}, {@link IngestApi}).
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
  /** Archive, Athena results and access log buckets. */
  readonly storage: ArchiveStorage;
  /** Glue tables over the archive, the Athena workgroup and named queries. */
  readonly catalog: ArchiveCatalog;
  /** The archive and quarantine delivery streams. */
  readonly delivery: ArchiveDelivery;
  /** The processor function, its role, event source mapping and on-failure queue. */
  readonly processing: Processor;
  /** Alarms and the dashboard. */
  readonly monitoring: Monitoring;
  /** `POST /ingest` (API Gateway → Kinesis PutRecords) for web clients. */
  readonly ingest: IngestApi;
  /** The IoT Core topic rule devices publish through, its device policy and alarms. */
  readonly devices: DeviceIngest;
  readonly processor: nodejs.NodejsFunction;
  readonly archiveBucket: s3.Bucket;
  readonly archiveDeliveryStream: firehose.DeliveryStream;
  readonly quarantineDeliveryStream: firehose.DeliveryStream;
  readonly onFailureQueue: sqs.Queue;
  readonly workgroup: athena.CfnWorkGroup;
  readonly catalogQueries: readonly CatalogQuery[];

  constructor(scope: Construct, id: string = DEFAULT_STACK_NAME, props: ShardlineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const opts = resolveStackProps(props, props.config.processing.memoryMiB);
    const removalPolicy = opts.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

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
    const capacity = config.table.capacity;
    this.table = new dynamodb.Table(this, 'Aggregates', {
      tableName: def.TableName,
      ...tableKeys(def, def.KeySchema),
      // The config's capacity mode: on-demand, or provisioned at the lower bounds, auto scaled below.
      ...(capacity.mode === 'onDemand'
        ? { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }
        : {
            billingMode: dynamodb.BillingMode.PROVISIONED,
            readCapacity: capacity.readCapacity.min,
            writeCapacity: capacity.writeCapacity.min,
          }),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: opts.retainData,
      removalPolicy,
    });
    for (const gsi of def.GlobalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName,
        ...tableKeys(def, gsi.KeySchema),
        projectionType: dynamodb.ProjectionType.ALL,
        ...(capacity.mode === 'provisioned'
          ? { readCapacity: capacity.readCapacity.min, writeCapacity: capacity.writeCapacity.min }
          : {}),
      });
    }
    if (capacity.mode === 'provisioned') {
      const target = { targetUtilizationPercent: capacity.targetUtilization };
      const bounds = (b: { min: number; max: number }) => ({ minCapacity: b.min, maxCapacity: b.max });
      this.table.autoScaleReadCapacity(bounds(capacity.readCapacity)).scaleOnUtilization(target);
      this.table.autoScaleWriteCapacity(bounds(capacity.writeCapacity)).scaleOnUtilization(target);
      for (const gsi of def.GlobalSecondaryIndexes) {
        this.table
          .autoScaleGlobalSecondaryIndexReadCapacity(gsi.IndexName, bounds(capacity.readCapacity))
          .scaleOnUtilization(target);
        this.table
          .autoScaleGlobalSecondaryIndexWriteCapacity(gsi.IndexName, bounds(capacity.writeCapacity))
          .scaleOnUtilization(target);
      }
    }

    // --- Archive: buckets, Glue + Athena, Firehose ---
    this.storage = new ArchiveStorage(this, 'Storage', {
      removalPolicy,
      noncurrentVersionDays: opts.noncurrentVersionDays,
    });
    this.catalog = new ArchiveCatalog(this, 'Catalog', {
      config,
      archiveBucket: this.storage.archive,
      resultsBucket: this.storage.results,
      catalogDir: opts.catalogDir,
      archiveStart: opts.archiveStart,
    });
    this.delivery = new ArchiveDelivery(this, 'Delivery', {
      config,
      stream: this.stream,
      archiveBucket: this.storage.archive,
      eventsTable: this.catalog.eventsTable,
      logRetention: opts.logRetention,
      removalPolicy,
    });

    // --- Processor Lambda ---
    this.processing = new Processor(this, 'Processing', {
      config,
      stream: this.stream,
      table: this.table,
      quarantine: this.delivery.quarantine,
      handlerEntry: opts.handlerEntry,
      memorySizeMiB: opts.memorySizeMiB,
      reservedConcurrency:
        opts.reserveConcurrency && !onDemand
          ? config.stream.shardCount * config.eventSource.parallelizationFactor
          : undefined,
      logRetention: opts.logRetention,
      removalPolicy,
    });

    // --- Ingest endpoint for web clients (API Gateway -> Kinesis PutRecords) ---
    this.ingest = new IngestApi(this, 'Ingest', {
      stream: this.stream,
      ...ingestThrottle(config.stream, config.ingest.maxRecordsPerRequest),
      dailyRequestQuota: config.ingest.dailyRequestQuota,
      maxRecordsPerRequest: config.ingest.maxRecordsPerRequest,
      webEventTypes: config.ingest.webEventTypes,
      allowOrigins: config.ingest.allowedOrigins,
      removalPolicy,
      logRetention: opts.logRetention,
    });

    // --- Alarms and dashboard ---
    this.monitoring = new Monitoring(this, 'Monitoring', {
      config,
      stream: this.stream,
      table: this.table,
      processor: this.processing.function,
      onFailureQueue: this.processing.onFailureQueue,
      archiveDelivery: this.delivery.archive,
      quarantineDelivery: this.delivery.quarantine,
      api: this.ingest.api,
      iteratorAgeAlarmSeconds: opts.iteratorAgeAlarmSeconds,
      quarantineAlarmThreshold: opts.quarantineAlarmThreshold,
      dashboardName: `${id}-pipeline`,
    });

    // --- Devices over MQTT (IoT Core topic rule -> Kinesis, mapping from config.iot) ---
    this.devices = new DeviceIngest(this, 'Devices', {
      mapping: deviceMapping(config.iot),
      stream: this.stream,
      errorBucket: this.storage.archive,
      alarm: (alarmId, metric, description) =>
        this.monitoring.addAlarm(alarmId, metric, 0, description, { alarmOn: 1, of: 1 }),
    });

    this.processor = this.processing.function;
    this.onFailureQueue = this.processing.onFailureQueue;
    this.archiveBucket = this.storage.archive;
    this.archiveDeliveryStream = this.delivery.archive;
    this.quarantineDeliveryStream = this.delivery.quarantine;
    this.workgroup = this.catalog.workgroup;
    this.catalogQueries = this.catalog.queries;

    // --- Outputs ---
    const outputs: Record<StackOutputKey, string> = {
      region: Aws.REGION,
      streamName: this.stream.streamName,
      streamArn: this.stream.streamArn,
      tableName: this.table.tableName,
      archiveDeliveryStreamName: this.archiveDeliveryStream.deliveryStreamName,
      quarantineDeliveryStreamName: this.quarantineDeliveryStream.deliveryStreamName,
      archiveBucketName: this.archiveBucket.bucketName,
      resultsBucketName: this.storage.results.bucketName,
      glueDatabase: config.athena.database,
      eventsTable: config.archive.tableName,
      quarantineTable: config.quarantine.tableName,
      workgroup: this.workgroup.ref,
      functionName: this.processor.functionName,
      dlqUrl: this.onFailureQueue.queueUrl,
      dashboardName: this.monitoring.dashboard.dashboardName,
      ingestUrl: this.ingest.url,
      ingestApiKeyId: this.ingest.apiKey.keyId,
      devicePolicyName: this.devices.devicePolicy.ref,
      deviceRuleName: this.devices.rule.ref,
    };
    for (const [k, value] of Object.entries(outputs)) {
      new CfnOutput(this, STACK_OUTPUTS[k as StackOutputKey], { value });
    }
  }

  /** Every alarm (each notifies {@link Monitoring.topic}). */
  get alarms(): readonly cloudwatch.Alarm[] {
    return this.monitoring.alarms;
  }

  /**
   * Logical IDs ignore {@link ResourceGroup}s: each resource keeps the ID it had when it was a direct child
   * of the stack, so splitting the stack into constructs replaces nothing already deployed.
   */
  protected override allocateLogicalId(element: CfnElement): string {
    return makeLogicalId(logicalIdPath(element, this));
  }
}

/** The table's (or an index's) partition and sort key with their attribute types, from `tableDefinition`. */
function tableKeys(
  def: ReturnType<typeof tableDefinition>,
  schema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[],
): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const attribute = (type: 'HASH' | 'RANGE'): dynamodb.Attribute | undefined => {
    const k = schema.find((s) => s.KeyType === type);
    if (!k) return undefined;
    const a = def.AttributeDefinitions.find((d) => d.AttributeName === k.AttributeName);
    if (!a) throw new ConfigError(`tableDefinition has no attribute definition for "${k.AttributeName}"`);
    const attrType = a.AttributeType === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
    return { name: k.AttributeName, type: attrType };
  };
  const partitionKey = attribute('HASH');
  if (!partitionKey) throw new ConfigError('tableDefinition must have a HASH key; received none');
  const sortKey = attribute('RANGE');
  return sortKey ? { partitionKey, sortKey } : { partitionKey };
}
