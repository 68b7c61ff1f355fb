/**
 * Names of the stack outputs the CLI's `--target aws` reads (via CloudFormation DescribeStacks).
 * A contract: renaming one breaks deployed stacks' readers.
 */
import { PROCESSOR_METRICS } from '../../common/metrics.ts';

export const STACK_OUTPUTS = {
  region: 'Region',
  streamName: 'StreamName',
  streamArn: 'StreamArn',
  tableName: 'TableName',
  archiveDeliveryStreamName: 'ArchiveDeliveryStreamName',
  quarantineDeliveryStreamName: 'QuarantineDeliveryStreamName',
  archiveBucketName: 'ArchiveBucketName',
  resultsBucketName: 'AthenaResultsBucketName',
  glueDatabase: 'GlueDatabaseName',
  eventsTable: 'GlueEventsTableName',
  quarantineTable: 'GlueQuarantineTableName',
  workgroup: 'AthenaWorkGroupName',
  functionName: 'ProcessorFunctionName',
  dlqUrl: 'OnFailureQueueUrl',
  dashboardName: 'DashboardName',
  /** `POST` endpoint of the web ingest API (API Gateway → Kinesis). */
  ingestUrl: 'IngestUrl',
  /** Id of the ingest API key (its value: `aws apigateway get-api-key --api-key <id> --include-value`). */
  ingestApiKeyId: 'IngestApiKeyId',
} as const;

export type StackOutputKey = keyof typeof STACK_OUTPUTS;

/** Default stack name (`cdk deploy Shardline`). */
export const DEFAULT_STACK_NAME = 'Shardline';

export { METRICS_NAMESPACE, SERVICE_NAME } from '../../common/metrics.ts';
/** Metric the processor emits per quarantined record (Count, Sum). */
export const QUARANTINED_METRIC = PROCESSOR_METRICS.quarantined;
