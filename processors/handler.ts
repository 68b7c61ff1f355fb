/**
 * The processor Lambda's entry module: CDK bundles its `handler` export. At cold start it reads the
 * environment once, builds the config and the SDK clients, and hands them to {@link createProcessor}:
 * - `SHARDLINE_CONFIG`: JSON config input (default: the repository's `shardline.config.ts`, bundled).
 * - `SHARDLINE_TABLE`, `SHARDLINE_QUARANTINE_STREAM`: override the names in the config.
 * - Endpoints: the SDK's standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_FIREHOSE`.
 *
 * {@link lambdaHandler} is the adapter between a processor and Lambda's handler shape: it returns the batch
 * response and publishes the batch report as CloudWatch metrics. The local cloud and the chaos run invoke the
 * processor through the same adapter, built from their own config and clients.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { dynamodbClient, firehoseClient } from '../common/aws.ts';
import { resolveConfig, type ShardlineConfigInput } from '../common/config.ts';
import { METRICS_NAMESPACE, PROCESSOR_METRICS, SERVICE_NAME } from '../common/metrics.ts';
import configInput from '../shardline.config.ts';
import { type BatchResponse, createProcessor, type Processor } from './processor.ts';

/**
 * Lambda's handler shape for a Kinesis event source with ReportBatchItemFailures (and, with a tumbling
 * window, the state carried to the window's next invocation).
 */
export type LambdaKinesisHandler = (event: KinesisStreamEvent, context?: Context) => Promise<BatchResponse>;

/**
 * Adapts a processor to Lambda's handler shape. With `metrics`, each batch's report is published as
 * CloudWatch metrics (EMF) once the batch is done, whether it succeeded or threw.
 */
export function lambdaHandler(
  processor: Processor,
  options: { metrics?: Metrics } = {},
): LambdaKinesisHandler {
  const { metrics } = options;
  if (metrics === undefined) return async (event) => (await processor.processBatch(event)).response;
  return async (event) => {
    try {
      const { response, report } = await processor.processBatch(event);
      metrics.addMetric(PROCESSOR_METRICS.aggregated, MetricUnit.Count, report.aggregated);
      metrics.addMetric(PROCESSOR_METRICS.quarantined, MetricUnit.Count, report.quarantined);
      metrics.addMetric(PROCESSOR_METRICS.itemsWritten, MetricUnit.Count, report.itemsWritten);
      metrics.addMetric(PROCESSOR_METRICS.itemWriteFailures, MetricUnit.Count, report.itemsFailed);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** The Lambda handler built from an environment (read once): config, clients, logs and metrics. */
export function processorFromEnvironment(env: NodeJS.ProcessEnv = process.env): LambdaKinesisHandler {
  const input: ShardlineConfigInput = env.SHARDLINE_CONFIG
    ? (JSON.parse(env.SHARDLINE_CONFIG) as ShardlineConfigInput)
    : configInput;
  const config = resolveConfig(input);
  const region = env.AWS_REGION ?? config.region;
  const inLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const serviceName = env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;
  // Structured JSON logs (Powertools). Locally the pipeline's own progress owns the terminal: warnings only.
  const logger = new Logger({
    serviceName,
    logLevel: (env.POWERTOOLS_LOG_LEVEL ?? (inLambda ? 'INFO' : 'WARN')) as 'INFO',
  });
  const endpoint = (name: string) => {
    const url = env[`AWS_ENDPOINT_URL_${name}`];
    return url ? { endpoint: url } : {};
  };
  const processor = createProcessor({
    config,
    clients: {
      dynamodb: dynamodbClient({ region, ...endpoint('DYNAMODB') }),
      firehose: firehoseClient({ region, ...endpoint('FIREHOSE') }),
    },
    tableName: env.SHARDLINE_TABLE ?? config.table.name,
    quarantineStreamName: env.SHARDLINE_QUARANTINE_STREAM ?? config.quarantine.deliveryStreamName,
    log: (level, message, data) => logger[level](message, data ?? {}),
  });
  // CloudWatch metrics as EMF (Powertools), only where CloudWatch reads them: in Lambda.
  const metrics = inLambda
    ? new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName })
    : undefined;
  return lambdaHandler(processor, metrics ? { metrics } : {});
}

let instance: LambdaKinesisHandler | undefined;

/** The Lambda entry point (CDK bundles this export). */
export const handler = async (event: KinesisStreamEvent, context?: Context): Promise<BatchResponse> => {
  instance ??= processorFromEnvironment();
  return instance(event, context);
};
