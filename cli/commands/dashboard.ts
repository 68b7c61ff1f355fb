/**
 * `shardline dashboard`: serves the live aggregates page and its JSON API over a running local cloud
 * (`shardline up` / `demo`) or a deployed stack (`--target aws`), until Ctrl-C.
 */
import { resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Command } from 'commander';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { UsageError } from '../../common/errors.ts';
import { findRunningCloud, localClientOptions } from '../local.ts';
import { loadConfig, parseIntOption, untilSignal, withCommonOptions } from '../shared.ts';
import { resolveAwsTarget, type TargetName, withTargetOptions } from '../target.ts';

interface DashboardFlags {
  config?: string;
  dataDir: string;
  target: TargetName;
  stack?: string;
  host: string;
  port: number;
  refresh: number;
}

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('dashboard')
        .description('serve live charts of the aggregates and the pipeline health in the browser'),
    ),
  )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 = any free port)', parseIntOption('--port', 0, 65_535), 0)
    .option('--refresh <s>', 'seconds between the page refreshes', parseIntOption('--refresh', 1, 3600), 5)
    .action(async (opts: DashboardFlags) => {
      let config = await loadConfig(opts.config);
      let dataDir: string | undefined;
      let onFailureQueueUrl: string | undefined;
      let clients: { kinesis: KinesisClient; dynamodb: DynamoDBClient } | undefined;
      if (opts.target === 'aws') {
        const aws = await resolveAwsTarget(config, { target: 'aws', stack: opts.stack });
        config = aws.config;
        onFailureQueueUrl = aws.outputs.dlqUrl;
      } else {
        dataDir = resolve(opts.dataDir);
        const running = await findRunningCloud(dataDir);
        if (!running) {
          throw new UsageError(
            `no local cloud runs in ${dataDir}: start one with \`shardline up\` or \`shardline demo\` (or pass --data-dir, or --target aws)`,
          );
        }
        clients = {
          kinesis: kinesisClient(localClientOptions(running, 'kinesis')),
          dynamodb: dynamodbClient(localClientOptions(running, 'dynamodb')),
        };
      }
      const { startDashboard } = await import('../../dashboard/index.ts');
      const dash = await startDashboard({
        config,
        target: opts.target,
        host: opts.host,
        port: opts.port,
        refreshSeconds: opts.refresh,
        ...(dataDir ? { dataDir } : {}),
        ...(onFailureQueueUrl ? { onFailureQueueUrl } : {}),
        ...(clients ? { clients } : {}),
      });
      process.stdout.write(`${dash.url}\n`);
      process.stderr.write(
        `Dashboard for ${opts.target === 'aws' ? `stack ${opts.stack}` : dataDir} at ${dash.url} (Ctrl-C to stop)\n`,
      );
      await untilSignal();
      await dash.close();
      clients?.kinesis.destroy();
      clients?.dynamodb.destroy();
    });
}
