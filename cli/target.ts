/**
 * `--target local|aws`: where a command's SDK clients point.
 *
 * - `local` (default): the local cloud of `--data-dir`, found through its `cloud.json`; clients are built on
 *   its endpoints.
 * - `aws`: a deployed stack (`--stack`, default `Shardline`); credentials and region come from the standard
 *   AWS environment (profile, SSO, env vars); resource names from the stack outputs (DescribeStacks).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { type Command, Option } from 'commander';
import type { ResolvedConfig } from '../common/config.ts';
import { ServiceError, UsageError } from '../common/errors.ts';
import { DEFAULT_STACK_NAME, STACK_OUTPUTS, type StackOutputKey } from '../infra/aws/outputs.ts';
import { cliEnvironment, useAwsEnvironment } from './env.ts';

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
  const cfn = client ?? new CloudFormationClient(region ? { region } : {});
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = res.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    throw new ServiceError(
      `cannot read stack "${stackName}" (is it deployed in this account and region, and are AWS credentials set?): ${(err as Error).message}`,
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

/** For `--target aws`: the stack's outputs and the matching config; the AWS SDK uses the real endpoints. */
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
