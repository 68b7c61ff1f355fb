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
  /** IoT policy to attach to each device's certificate (`shardline devices` steps in the README). */
  devicePolicyName: 'DevicePolicyName',
  /** IoT topic rule forwarding `devices/{source}/events` into the stream. */
  deviceRuleName: 'DeviceRuleName',
} as const;

export type StackOutputKey = keyof typeof STACK_OUTPUTS;

export { METRICS_NAMESPACE, SERVICE_NAME } from '../../common/metrics.ts';
/** Default stack name (`cdk deploy Shardline`). */
export { DEFAULT_STACK_NAME } from '../../common/names.ts';
/** Metric the processor emits per quarantined record (Count, Sum). */
export const QUARANTINED_METRIC = PROCESSOR_METRICS.quarantined;
