/**
 * Builds the Shardline stack inside an app with the cdk-nag AwsSolutions checks registered (cdk-nag 3: a CDK policy-validation plugin, run at synth; see nag.ts), so the app and the
 * tests check exactly the same thing.
 */
import type { App } from 'aws-cdk-lib';
import type { ResolvedConfig } from '../../../common/config.ts';
import { namesForStack } from '../../../common/names.ts';
import { DEFAULT_STACK_NAME } from '../outputs.ts';
import { registerNag } from './nag.ts';
import { ShardlineStack, type ShardlineStackProps } from './shardline-stack.ts';

/** Options of {@link buildApp}: the stack's own props plus its name. */
export interface BuildOptions extends Omit<ShardlineStackProps, 'config'> {
  /** CloudFormation stack name. @default 'Shardline' */
  readonly stackName?: string;
}

/** Adds the stack (env region from `config.region`) and registers the cdk-nag AwsSolutions plugin on `app`. */
export function buildApp(app: App, config: ResolvedConfig, options: BuildOptions = {}): ShardlineStack {
  const { stackName = DEFAULT_STACK_NAME, ...props } = options;
  const stack = new ShardlineStack(app, stackName, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: config.region },
    description: 'Shardline: exactly-once stream analytics (Kinesis, Lambda, DynamoDB, Firehose, Athena)',
    ...props,
    // A second copy (another stack name) gets its own physical names.
    config: namesForStack(config, stackName),
  });
  registerNag(app);
  return stack;
}
