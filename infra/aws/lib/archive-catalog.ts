/**
 * The archive's catalog: the Glue database with the events and quarantine tables (partition projection
 * onto the Firehose prefixes, so no crawler and no `MSCK REPAIR`), the Athena workgroup and one named
 * query per catalog `.sql` file.
 */
import { Aws, aws_athena as athena, aws_glue as glue, type aws_s3 as s3 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ARCHIVE_COLUMNS } from '../../../common/envelope.ts';
import { QUARANTINE_COLUMNS } from '../../../common/quarantine.ts';
import { type CatalogQuery, readCatalog } from './catalog.ts';
import { PARTITION_COLUMN, projectionFromPrefix, projectionParameters } from './partition.ts';
import { ResourceGroup } from './private/logical-id.ts';

/** Properties of {@link ArchiveCatalog}. */
export interface ArchiveCatalogProps {
  /** Names, prefixes and the archive format come from here. */
  readonly config: ResolvedConfig;
  /** The bucket Firehose writes the archive to. */
  readonly archiveBucket: s3.IBucket;
  /** Where the workgroup writes query results. */
  readonly resultsBucket: s3.IBucket;
  /** Folder of catalog `.sql` files (a missing folder means none). */
  readonly catalogDir: string;
  /** First partition (UTC) of the tables' `dt` projection range; the range ends at `NOW`. */
  readonly archiveStart: Date;
}

/**
 * Glue tables over the archive and the Athena workgroup that queries them.
 *
 * @example
 * ```ts
 * const catalog = new ArchiveCatalog(this, 'Catalog', {
 *   config, archiveBucket, resultsBucket, catalogDir, archiveStart: new Date('2025-01-01T00:00:00Z'),
 * });
 * ```
 */
export class ArchiveCatalog extends ResourceGroup {
  readonly database: glue.CfnDatabase;
  /** Raw events (`config.archive.tableName`); its columns are the schema Firehose converts to Parquet with. */
  readonly eventsTable: glue.CfnTable;
  /** Quarantined records (`config.quarantine.tableName`). */
  readonly quarantineTable: glue.CfnTable;
  readonly workgroup: athena.CfnWorkGroup;
  readonly queries: readonly CatalogQuery[];

  constructor(scope: Construct, id: string, props: ArchiveCatalogProps) {
    super(scope, id);
    const { config, archiveBucket, archiveStart } = props;
    const rawProjection = projectionFromPrefix(config.archive.rawPrefix);
    const quarantineProjection = projectionFromPrefix(config.quarantine.prefix);

    this.database = new glue.CfnDatabase(this, 'GlueDatabase', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: config.athena.database,
        description: 'Shardline archive (raw events, quarantine)',
      },
    });
    const parquet = config.archive.format === 'parquet';
    this.eventsTable = new glue.CfnTable(this, 'EventsTable', {
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
          ...projectionParameters(rawProjection, archiveBucket.bucketName, archiveStart),
        },
        storageDescriptor: {
          location: `s3://${archiveBucket.bucketName}/${rawProjection.basePrefix}`,
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
    this.eventsTable.addDependency(this.database);
    this.quarantineTable = new glue.CfnTable(this, 'QuarantineTable', {
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
          ...projectionParameters(quarantineProjection, archiveBucket.bucketName, archiveStart),
        },
        storageDescriptor: {
          location: `s3://${archiveBucket.bucketName}/${quarantineProjection.basePrefix}`,
          columns: QUARANTINE_COLUMNS.map((c) => ({ name: c.name, type: c.glueType })),
          ...jsonStorage(),
        },
      },
    });
    this.quarantineTable.addDependency(this.database);

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
          outputLocation: `s3://${props.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    this.queries = readCatalog(props.catalogDir);
    for (const [i, q] of this.queries.entries()) {
      const nq = new athena.CfnNamedQuery(this, `Query${i}${q.name.replace(/[^A-Za-z0-9]/g, '')}`, {
        name: q.name,
        description: q.description,
        database: config.athena.database,
        workGroup: this.workgroup.ref,
        queryString: q.sql,
      });
      nq.addDependency(this.workgroup);
    }
  }
}

/** Storage of a JSON-lines table read with the OpenX JSON SerDe. */
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
