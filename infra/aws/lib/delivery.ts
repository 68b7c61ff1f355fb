/**
 * Archive delivery: Firehose reads the stream and writes `raw/` (Parquet converted with the Glue events
 * table's schema, or JSON), and takes the processor's quarantined records by Direct PUT into `quarantine/`.
 */
import {
  Duration,
  aws_kinesisfirehose as firehose,
  type aws_glue as glue,
  type aws_kinesis as kinesis,
  Size,
  type aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { PARTITION_COLUMN, projectionFromPrefix } from './partition.ts';
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
}

/**
 * The archive (Kinesis source) and quarantine (Direct PUT) delivery streams.
 *
 * @example
 * ```ts
 * const delivery = new ArchiveDelivery(this, 'Delivery', {
 *   config, stream, archiveBucket: storage.archive, eventsTable: catalog.eventsTable,
 * });
 * ```
 */
export class ArchiveDelivery extends ResourceGroup {
  /** Stream → `config.archive.rawPrefix`. */
  readonly archive: firehose.DeliveryStream;
  /** Direct PUT (the processor's quarantine) → `config.quarantine.prefix`. */
  readonly quarantine: firehose.DeliveryStream;

  constructor(scope: Construct, id: string, props: ArchiveDeliveryProps) {
    super(scope, id);
    const { config, archiveBucket } = props;
    const parquet = config.archive.format === 'parquet';
    this.archive = new firehose.DeliveryStream(this, 'ArchiveDelivery', {
      deliveryStreamName: config.archive.deliveryStreamName,
      source: new firehose.KinesisStreamSource(props.stream),
      destination: new firehose.S3Bucket(archiveBucket, {
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
      }),
    });

    const quarantineProjection = projectionFromPrefix(config.quarantine.prefix);
    this.quarantine = new firehose.DeliveryStream(this, 'QuarantineDelivery', {
      deliveryStreamName: config.quarantine.deliveryStreamName,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(archiveBucket, {
        dataOutputPrefix: config.quarantine.prefix,
        errorOutputPrefix: `${quarantineProjection.basePrefix.replace(/\/$/, '')}-errors/!{firehose:error-output-type}/${PARTITION_COLUMN}=!{timestamp:${quarantineProjection.format}}/`,
        bufferingInterval: Duration.seconds(config.quarantine.bufferIntervalSeconds),
        bufferingSize: Size.mebibytes(config.quarantine.bufferSizeMiB),
        fileExtension: '.json',
      }),
    });
  }
}
