/**
 * Archive delivery: Firehose reads the stream and writes `raw/` (Parquet converted with the Glue events
 * table's schema, or JSON), and takes the processor's quarantined records by Direct PUT into `quarantine/`.
 * Each delivery stream has its own role, assumable by Firehose only on behalf of that delivery stream in
 * this account, allowed the documented Firehose S3 actions on its own prefixes only.
 */
import {
  Aws,
  type CfnElement,
  Duration,
  aws_kinesisfirehose as firehose,
  type aws_glue as glue,
  aws_iam as iam,
  type aws_kinesis as kinesis,
  aws_logs as logs,
  type RemovalPolicy,
  Size,
  Stack,
  type aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { acknowledgeNag } from './nag.ts';
import { PARTITION_COLUMN, projectionFromPrefix } from './partition.ts';
import { firehoseDestinationView, firehoseSourceView, staticPrefix } from './private/firehose-grants.ts';
import { ResourceGroup } from './private/logical-id.ts';

/** Properties of {@link ArchiveDelivery}. */
export interface ArchiveDeliveryProps {
  /** Delivery stream names, prefixes, buffering and the archive format come from here. */
  readonly config: ResolvedConfig;
  /** The stream the archive delivery stream reads. */
  readonly stream: kinesis.IStream;
  /** Where both delivery streams write. */
  readonly archiveBucket: s3.IBucket;
  /** The Glue table whose columns Firehose converts records to Parquet with (used when the format is `parquet`). */
  readonly eventsTable: glue.CfnTable;
  /** Retention of the delivery streams' error log groups. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log groups. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The archive (Kinesis source) and quarantine (Direct PUT) delivery streams.
 *
 * @example
 * ```ts
 * const delivery = new ArchiveDelivery(this, 'Delivery', {
 *   config, stream, archiveBucket: storage.archive, eventsTable: catalog.eventsTable,
 *   logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN,
 * });
 * ```
 */
export class ArchiveDelivery extends ResourceGroup {
  /** Stream → `config.archive.rawPrefix` (failures → `config.archive.errorPrefix`). */
  readonly archive: firehose.DeliveryStream;
  /** Direct PUT (the processor's quarantine) → `config.quarantine.prefix`. */
  readonly quarantine: firehose.DeliveryStream;
  /** The archive delivery stream's role (reads the stream, writes its prefixes). */
  readonly archiveRole: iam.Role;
  /** The quarantine delivery stream's role (writes its prefixes). */
  readonly quarantineRole: iam.Role;

  constructor(scope: Construct, id: string, props: ArchiveDeliveryProps) {
    super(scope, id);
    const { config, archiveBucket } = props;
    const parquet = config.archive.format === 'parquet';
    const logGroup = (logId: string) =>
      new logs.LogGroup(this, logId, {
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });

    this.archiveRole = this.#role(
      'ArchiveDeliveryRole',
      config.archive.deliveryStreamName,
      'reads the stream, writes raw/ and errors/',
    );
    this.archive = new firehose.DeliveryStream(this, 'ArchiveDelivery', {
      deliveryStreamName: config.archive.deliveryStreamName,
      source: new firehose.KinesisStreamSource(firehoseSourceView(props.stream)),
      role: this.archiveRole,
      destination: new firehose.S3Bucket(
        firehoseDestinationView(archiveBucket, [config.archive.rawPrefix, config.archive.errorPrefix]),
        {
          role: this.archiveRole,
          loggingConfig: new firehose.EnableLogging(logGroup('ArchiveDeliveryLogs')),
          dataOutputPrefix: config.archive.rawPrefix,
          errorOutputPrefix: config.archive.errorPrefix,
          bufferingInterval: Duration.seconds(config.archive.bufferIntervalSeconds),
          bufferingSize: Size.mebibytes(config.archive.bufferSizeMiB),
          ...(parquet
            ? {
                fileExtension: '.parquet',
                dataFormatConversion: {
                  schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(props.eventsTable),
                  inputFormat: firehose.InputFormat.OPENX_JSON,
                  outputFormat: firehose.OutputFormat.PARQUET,
                },
              }
            : config.archive.format === 'json.gz'
              ? { compression: firehose.Compression.GZIP, fileExtension: '.json.gz' }
              : { fileExtension: '.json' }),
        },
      ),
    });

    acknowledgeNag(this.archive, {
      id: 'AwsSolutions-KDF1',
      reason:
        'Firehose rejects server-side encryption when its source is a Kinesis stream; the source stream is ' +
        'KMS-encrypted and the archive bucket encrypts every object (SSE-S3).',
    });
    acknowledgePrefixes(this.archiveRole, archiveBucket, [
      config.archive.rawPrefix,
      config.archive.errorPrefix,
    ]);
    if (parquet) {
      acknowledgeNag(this.archiveRole, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'glue:GetSchemaVersion, added by the Firehose record format conversion construct, has no ' +
          'resource-level permissions; the other Glue actions are limited to the catalog, database and events table.',
      });
    }

    const quarantineProjection = projectionFromPrefix(config.quarantine.prefix);
    const quarantineErrors = `${quarantineProjection.basePrefix.replace(/\/$/, '')}-errors/!{firehose:error-output-type}/${PARTITION_COLUMN}=!{timestamp:${quarantineProjection.format}}/`;
    this.quarantineRole = this.#role(
      'QuarantineDeliveryRole',
      config.quarantine.deliveryStreamName,
      'writes quarantine/ and its errors',
    );
    this.quarantine = new firehose.DeliveryStream(this, 'QuarantineDelivery', {
      deliveryStreamName: config.quarantine.deliveryStreamName,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      role: this.quarantineRole,
      destination: new firehose.S3Bucket(
        firehoseDestinationView(archiveBucket, [config.quarantine.prefix, quarantineErrors]),
        {
          role: this.quarantineRole,
          loggingConfig: new firehose.EnableLogging(logGroup('QuarantineDeliveryLogs')),
          dataOutputPrefix: config.quarantine.prefix,
          errorOutputPrefix: quarantineErrors,
          bufferingInterval: Duration.seconds(config.quarantine.bufferIntervalSeconds),
          bufferingSize: Size.mebibytes(config.quarantine.bufferSizeMiB),
          fileExtension: '.json',
        },
      ),
    });
    acknowledgePrefixes(this.quarantineRole, archiveBucket, [config.quarantine.prefix, quarantineErrors]);
  }

  /** A role only Firehose may assume, and only for `deliveryStreamName` in this account (confused deputy). */
  #role(roleId: string, deliveryStreamName: string, what: string): iam.Role {
    const deliveryStreamArn = Stack.of(this).formatArn({
      service: 'firehose',
      resource: 'deliverystream',
      resourceName: deliveryStreamName,
    });
    return new iam.Role(this, roleId, {
      description: `Firehose ${deliveryStreamName}: ${what}`,
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': deliveryStreamArn },
        },
      }),
    });
  }
}

/** The wildcard of "every object under this delivery stream's prefix" is the point of the grant. */
function acknowledgePrefixes(role: iam.Role, bucket: s3.IBucket, prefixes: readonly string[]): void {
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  for (const p of new Set(prefixes.map(staticPrefix))) {
    acknowledgeNag(role, {
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}*]`,
      reason:
        "Firehose names each object it writes (time and a random suffix) under this delivery stream's own " +
        'prefix; the object actions are the documented Firehose S3 destination set, on that prefix only.',
    });
  }
}
