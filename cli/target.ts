/**
 * `--target local|aws`: where a command's data lives, chosen once and passed down as a {@link Target}.
 *
 * - `local` (default): the local cloud of `--data-dir`: the aggregates in its DynamoDB (the running cloud's,
 *   found through `cloud.json`, else dynalite over the stored table), the archive read by DuckDB.
 * - `aws`: a deployed stack (`--stack`, default `Shardline`): resource names from the stack's outputs
 *   (CloudFormation DescribeStacks), the aggregates in its DynamoDB table, the archive read by Athena over
 *   its Glue tables. Credentials, region and endpoints come from the standard AWS environment (profile,
 *   SSO, env vars, `AWS_ENDPOINT_URL_<SERVICE>`), so `eval "$(shardline env)"` runs it against the local
 *   cloud's own AWS APIs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Command, Option } from 'commander';
import { clientConfig, dynamodbClient, kinesisClient } from '../common/aws.ts';
import type { ResolvedConfig } from '../common/config.ts';
import { ServiceError, UsageError } from '../common/errors.ts';
import { countFiles } from '../common/files.ts';
import { DEFAULT_STACK_NAME, STACK_OUTPUTS, type StackOutputKey } from '../infra/aws/outputs.ts';
import { type ArchiveEngine, athenaArchive, openDuckDbArchive } from '../queries/archive.ts';
import { athenaClient } from '../queries/athena/client.ts';
import { cliEnvironment, useAwsEnvironment } from './env.ts';
import { localClientOptions, openCliDynamo, withLocalCloud } from './local.ts';

export type TargetName = 'local' | 'aws';

export interface TargetFlags {
  target?: TargetName;
  stack?: string;
}

/** Adds `--target local|aws` and `--stack NAME`. */
export function withTargetOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--target <target>', 'where to run').choices(['local', 'aws']).default('local'))
    .option('--stack <name>', 'deployed stack name (with --target aws)', DEFAULT_STACK_NAME);
}

/** Outputs added after the first release: a stack deployed before them still works without them. */
const OPTIONAL = ['ingestUrl', 'ingestApiKeyId', 'devicePolicyName', 'deviceRuleName'] as const;
const OPTIONAL_OUTPUTS: ReadonlySet<StackOutputKey> = new Set(OPTIONAL);

export type StackOutputs = Record<Exclude<StackOutputKey, (typeof OPTIONAL)[number]>, string> &
  Partial<Record<(typeof OPTIONAL)[number], string>>;

/** Reads a deployed stack's outputs; fails naming the outputs that are missing. */
export async function readStackOutputs(
  stackName: string,
  region?: string,
  client?: CloudFormationClient,
): Promise<StackOutputs> {
  const cfn = client ?? new CloudFormationClient(clientConfig(region ? { region } : {}));
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = res.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    const where = await cfn.config.region().catch(() => region ?? '(no region set)');
    throw new ServiceError(
      `cannot read stack "${stackName}" in region ${where} (is it deployed in this account and region, and are AWS credentials set?): ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    if (!client) cfn.destroy();
  }
  const byKey = new Map(outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const result: Partial<Record<StackOutputKey, string>> = {};
  const missing: string[] = [];
  for (const [key, name] of Object.entries(STACK_OUTPUTS) as [StackOutputKey, string][]) {
    const v = byKey.get(name);
    if (v !== undefined) result[key] = v;
    else if (!OPTIONAL_OUTPUTS.has(key)) missing.push(name);
  }
  if (missing.length > 0) {
    throw new ServiceError(
      `stack "${stackName}" lacks outputs ${missing.join(', ')}; redeploy it with this version`,
    );
  }
  return result as StackOutputs;
}

/** The config with the deployed stack's resource names (what CDK generated) in place of the local ones. */
export function configForStack(config: ResolvedConfig, outputs: StackOutputs): ResolvedConfig {
  return {
    ...config,
    region: outputs.region,
    stream: { ...config.stream, name: outputs.streamName },
    table: { ...config.table, name: outputs.tableName },
    archive: {
      ...config.archive,
      bucket: outputs.archiveBucketName,
      deliveryStreamName: outputs.archiveDeliveryStreamName,
      tableName: outputs.eventsTable,
    },
    quarantine: {
      ...config.quarantine,
      deliveryStreamName: outputs.quarantineDeliveryStreamName,
      tableName: outputs.quarantineTable,
    },
    athena: { ...config.athena, database: outputs.glueDatabase, workgroup: outputs.workgroup },
  };
}

/**
 * For `--target aws`: the stack's outputs and the matching config; endpoints come from the standard AWS
 * environment.
 */
export async function resolveAwsTarget(
  config: ResolvedConfig,
  flags: TargetFlags,
): Promise<{ outputs: StackOutputs; config: ResolvedConfig }> {
  if (flags.target !== 'aws') throw new UsageError('resolveAwsTarget needs --target aws');
  const outputs = await readStackOutputs(
    flags.stack ?? DEFAULT_STACK_NAME,
    cliEnvironment().region ?? config.region,
  );
  useAwsEnvironment(outputs.region);
  return { outputs, config: configForStack(config, outputs) };
}

/** DynamoDB holding the aggregates, opened for one command. */
export interface AggregatesStore {
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

/** The stream's clients (status reads shards, checkpoints and lag through them). */
export interface StreamClients {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
}

/** The on-failure destination's depth: records the processor gave up on. */
export interface OnFailureDepth {
  /** Records waiting (SQS `ApproximateNumberOfMessages`, or the local destination's record files). */
  readonly records: number | null;
  /** Where the number comes from, or why it is missing. */
  readonly note: string;
}

/**
 * Where a command's data lives: one value resolved from `--target` (and `--stack`) and passed down, so the
 * commands hold no target-specific branches.
 */
export interface Target {
  readonly name: TargetName;
  /** The config with the target's resource names (a stack's generated names for `aws`). */
  readonly config: ResolvedConfig;
  /** The stack read for `aws`; null for `local`. */
  readonly stack: { readonly name: string; readonly outputs: StackOutputs } | null;
  /** Opens the DynamoDB holding the aggregates. */
  openAggregates(): Promise<AggregatesStore>;
  /** Opens the engine that reads the archive: DuckDB locally, Athena for a stack. */
  openArchive(options?: {
    onState?: (state: string, queryExecutionId: string) => void;
  }): Promise<ArchiveEngine>;
  /** Runs `fn` with the stream's clients (locally, the data dir's cloud, started for the call if none runs). */
  withStream<T>(fn: (clients: StreamClients) => Promise<T>): Promise<T>;
  /** The on-failure destination's depth. */
  onFailureDepth(): Promise<OnFailureDepth>;
}

function localTarget(config: ResolvedConfig, dataDir: string): Target {
  return {
    name: 'local',
    config,
    stack: null,
    openAggregates: () => openCliDynamo(dataDir, config),
    openArchive: async () => {
      if (!existsSync(dataDir)) {
        throw new UsageError(
          `no local cloud state in ${dataDir}: run \`shardline up\` or \`shardline demo\` first (or pass --data-dir)`,
        );
      }
      return openDuckDbArchive(dataDir, config);
    },
    withStream: (fn) =>
      withLocalCloud(config, dataDir, async (info) => {
        const kinesis = kinesisClient(localClientOptions(info, 'kinesis'));
        const dynamodb = dynamodbClient(localClientOptions(info, 'dynamodb'));
        try {
          return await fn({ kinesis, dynamodb });
        } finally {
          kinesis.destroy();
          dynamodb.destroy();
        }
      }),
    onFailureDepth: async () => ({
      records: countFiles(join(dataDir, 'onfailure')),
      note: `OnFailure records in ${join(dataDir, 'onfailure')}`,
    }),
  };
}

function awsTarget(config: ResolvedConfig, stackName: string, outputs: StackOutputs): Target {
  const region = outputs.region;
  return {
    name: 'aws',
    config,
    stack: { name: stackName, outputs },
    openAggregates: async () => {
      const client = dynamodbClient({ region });
      return { client, close: async () => client.destroy() };
    },
    openArchive: async (options = {}) => {
      const client = athenaClient({ region });
      const engine = athenaArchive({ client, config, ...options });
      return {
        name: engine.name,
        run: (sql) => engine.run(sql),
        close: async () => {
          await engine.close();
          client.destroy();
        },
      };
    },
    withStream: async (fn) => {
      const kinesis = kinesisClient({ region });
      const dynamodb = dynamodbClient({ region });
      try {
        return await fn({ kinesis, dynamodb });
      } finally {
        kinesis.destroy();
        dynamodb.destroy();
      }
    },
    onFailureDepth: async () => {
      const sqs = new SQSClient(clientConfig({ region, maxAttempts: 2 }));
      try {
        const out = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: outputs.dlqUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        const n = Number(out.Attributes?.ApproximateNumberOfMessages);
        return {
          records: Number.isFinite(n) ? n : null,
          note: `SQS ApproximateNumberOfMessages of ${outputs.dlqUrl}`,
        };
      } catch (err) {
        return {
          records: null,
          note: `could not read the on-failure queue ${outputs.dlqUrl}: ${(err as Error).name}: ${(err as Error).message}`,
        };
      } finally {
        sqs.destroy();
      }
    },
  };
}

/**
 * Resolves `--target` once: for `aws`, reads the stack's outputs (DescribeStacks) and renames the config's
 * resources after them.
 */
export async function resolveTarget(
  config: ResolvedConfig,
  flags: TargetFlags & { dataDir: string },
): Promise<Target> {
  if (flags.target === 'aws') {
    const stack = flags.stack ?? DEFAULT_STACK_NAME;
    const aws = await resolveAwsTarget(config, { target: 'aws', stack });
    return awsTarget(aws.config, stack, aws.outputs);
  }
  return localTarget(config, flags.dataDir);
}
