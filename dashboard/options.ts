/**
 * Options of {@link startDashboard}, resolved and validated in one place.
 */
import { isIP } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ResolvedConfig } from '../common/config.ts';
import { ConfigError, describeValue } from '../common/errors.ts';

export type DashboardTarget = 'local' | 'aws';

/** SDK clients the dashboard reads through. */
export interface DashboardClients {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** Only for `target: 'aws'`, to read the on-failure queue's depth. */
  readonly sqs?: SQSClient;
}

export interface DashboardOptions {
  /** The resolved config (for AWS, with the stack's resource names: `resolveAwsTarget`). */
  readonly config: ResolvedConfig;
  /** Local cloud state folder; its `onfailure/` files are the on-failure depth. Only with `target: 'local'`. */
  readonly dataDir?: string;
  /** Where the pipeline runs: the local cloud or a deployed stack. */
  readonly target: DashboardTarget;
  /** Interface to listen on, an IP address or `localhost`. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port, 0–65535; 0 picks a free port. @default 0 */
  readonly port?: number;
  /**
   * SDK clients to read through; the dashboard does not destroy clients it was given.
   * @default kinesisClient()/dynamodbClient() from common/aws.ts (endpoints from `AWS_ENDPOINT_URL_*`), and an
   * SQS client with `target: 'aws'`
   */
  readonly clients?: DashboardClients;
  /** On AWS, the stack output OnFailureQueueUrl, whose depth the health panel shows. @default none */
  readonly onFailureQueueUrl?: string;
  /** Seconds between the page's refreshes, 1–3600. @default 5 */
  readonly refreshSeconds?: number;
}

export interface ResolvedDashboardOptions {
  readonly config: ResolvedConfig;
  readonly dataDir: string | undefined;
  readonly target: DashboardTarget;
  readonly host: string;
  readonly port: number;
  readonly clients: DashboardClients | undefined;
  readonly onFailureQueueUrl: string | undefined;
  readonly refreshSeconds: number;
}

/** Applies defaults and checks every option; throws one {@link ConfigError} listing each problem. */
export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  const problems: string[] = [];
  const target = options.target as string;
  if (target !== 'local' && target !== 'aws') {
    problems.push(`target must be one of local, aws; received ${describeValue(options.target)}`);
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || (host !== 'localhost' && isIP(host) === 0)) {
    problems.push(`host must be an IP address or "localhost"; received ${describeValue(host)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.push(`port must be an integer between 0 and 65535; received ${describeValue(port)}`);
  }
  const refreshSeconds = options.refreshSeconds ?? 5;
  if (!Number.isInteger(refreshSeconds) || refreshSeconds < 1 || refreshSeconds > 3600) {
    problems.push(
      `refreshSeconds must be an integer between 1 and 3600; received ${describeValue(refreshSeconds)}`,
    );
  }
  if (options.dataDir !== undefined && target === 'aws') {
    problems.push('dataDir is only for target local; received a dataDir with target aws');
  }
  if (problems.length > 0) throw new ConfigError(`invalid dashboard options:\n  ${problems.join('\n  ')}`);
  return {
    config: options.config,
    dataDir: options.dataDir,
    target: target as DashboardTarget,
    host,
    port,
    clients: options.clients,
    onFailureQueueUrl: options.onFailureQueueUrl,
    refreshSeconds,
  };
}
