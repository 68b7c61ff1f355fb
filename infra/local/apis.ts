/**
 * The AWS control-plane APIs the CLI's `--target aws` paths call, answered by the local cloud over the
 * real wire protocols: Athena (DuckDB over the local archive), CloudFormation DescribeStacks (the local
 * resources' names as the stack's outputs) and the on-failure queue's depth (SQS GetQueueAttributes).
 * With their endpoints in `AWS_ENDPOINT_URL_<SERVICE>` (`shardline env`), `--target aws` runs here exactly
 * as against a deployed stack.
 */
import { join } from 'node:path';
import type { ResolvedConfig } from '../../common/config.ts';
import { CATALOG_DIR } from '../../queries/catalog.ts';
import { DEFAULT_STACK_NAME, type StackOutputKey } from '../aws/outputs.ts';
import { startAthenaServer } from './athena/api.ts';
import { LocalAthena } from './athena/service.ts';
import { startCloudFormation } from './cloudformation.ts';
import { localStreamArn } from './private/arn.ts';
import { startSqs } from './sqs.ts';

export interface LocalApisOptions {
  readonly config: ResolvedConfig;
  readonly dataDir: string;
  /** Name of the processor function (the `ProcessorFunctionName` output). */
  readonly functionName: string;
  /** The ingest endpoint's URL (`IngestUrl` output), when it runs. */
  readonly ingestUrl: string | null;
  /** Stack name DescribeStacks answers to. @default 'Shardline' */
  readonly stackName?: string;
}

export interface LocalApiEndpoints {
  athena: string;
  cloudformation: string;
  sqs: string;
}

export interface LocalApis {
  readonly endpoints: LocalApiEndpoints;
  readonly stackName: string;
  readonly outputs: Partial<Record<StackOutputKey, string>>;
  close(): Promise<void>;
}

/** Bucket of Athena results in the local cloud (`<dataDir>/s3/<name>/results/`). */
export function localResultsBucket(config: ResolvedConfig): string {
  return `${config.archive.bucket}-athena-results`.slice(0, 63);
}

export async function startLocalApis(options: LocalApisOptions): Promise<LocalApis> {
  const { config, dataDir } = options;
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const closers: (() => Promise<void>)[] = [];
  try {
    const athena = new LocalAthena({
      config,
      dataDir,
      resultsBucket: localResultsBucket(config),
      catalogDir: CATALOG_DIR,
    });
    const athenaServer = await startAthenaServer(athena);
    closers.push(athenaServer.close);
    const sqs = await startSqs({
      name: `${stackName}-on-failure`,
      region: config.region,
      dir: join(dataDir, 'onfailure'),
    });
    closers.push(sqs.close);
    const outputs: Partial<Record<StackOutputKey, string>> = {
      region: config.region,
      streamName: config.stream.name,
      streamArn: localStreamArn(config.region, config.stream.name),
      tableName: config.table.name,
      archiveDeliveryStreamName: config.archive.deliveryStreamName,
      quarantineDeliveryStreamName: config.quarantine.deliveryStreamName,
      archiveBucketName: config.archive.bucket,
      resultsBucketName: localResultsBucket(config),
      glueDatabase: config.athena.database,
      eventsTable: config.archive.tableName,
      quarantineTable: config.quarantine.tableName,
      workgroup: config.athena.workgroup,
      functionName: options.functionName,
      dlqUrl: sqs.queueUrl,
      dashboardName: stackName,
      ...(options.ingestUrl === null ? {} : { ingestUrl: options.ingestUrl }),
    };
    const cfn = await startCloudFormation({
      name: stackName,
      region: config.region,
      outputs,
      createdAt: Date.now(),
    });
    closers.push(cfn.close);
    return {
      endpoints: { athena: athenaServer.endpoint, cloudformation: cfn.endpoint, sqs: sqs.endpoint },
      stackName,
      outputs,
      close: async () => {
        for (const c of closers.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}
