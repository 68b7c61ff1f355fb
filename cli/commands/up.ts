/**
 * `shardline up`: start only the local cloud and keep it running until SIGINT/SIGTERM.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { externalEndpoints } from '../env.ts';
import { findRunningCloud } from '../local.ts';
import { loadConfig, untilSignal, withCommonOptions } from '../shared.ts';

export function register(program: Command): void {
  withCommonOptions(
    program
      .command('up')
      .description('start the local cloud (Kinesis, DynamoDB, Firehose, the processor) and keep it running'),
  )
    .option('--json', 'print only the ready line (JSON) on stdout')
    .option(
      '--emulator-threads',
      'run kinesalite and dynalite on worker threads (about twice the throughput under heavy load)',
    )
    .action(async (opts: { config?: string; dataDir: string; json?: boolean; emulatorThreads?: boolean }) => {
      const config = await loadConfig(opts.config);
      const dataDir = resolve(opts.dataDir);
      const running = await findRunningCloud(dataDir);
      if (running) {
        throw new UsageError(
          `a local cloud already runs in ${dataDir} (pid ${running.pid ?? '?'}); stop it or pass --data-dir`,
        );
      }
      const log = (line: string) => {
        if (!opts.json) process.stderr.write(`${line}\n`);
      };
      const { LocalCloud } = await import('../../infra/local/index.ts');
      const external = externalEndpoints();
      for (const [service, endpoint] of Object.entries(external)) {
        log(`using your ${service} at ${endpoint} (AWS_ENDPOINT_URL_${service.toUpperCase()})`);
      }
      const cloud = await LocalCloud.start({
        config,
        dataDir,
        log,
        emulatorThreads: opts.emulatorThreads ?? false,
        external,
      });
      const ready = {
        region: cloud.region,
        kinesisEndpoint: cloud.endpoints.kinesis,
        dynamodbEndpoint: cloud.endpoints.dynamodb,
        firehoseEndpoint: cloud.endpoints.firehose,
        athenaEndpoint: cloud.endpoints.athena,
        cloudformationEndpoint: cloud.endpoints.cloudformation,
        sqsEndpoint: cloud.endpoints.sqs,
        stackName: cloud.apis?.stackName ?? null,
        ingestUrl: cloud.ingestUrl,
        mqttUrl: cloud.mqtt?.url ?? null,
        streamName: cloud.streamName,
        tableName: cloud.tableName,
        dataDir: cloud.dataDir,
        archiveDir: cloud.archiveDir,
      };
      process.stdout.write(`${JSON.stringify(ready)}\n`);
      if (!opts.json) {
        process.stderr.write(
          `local cloud ready in ${dataDir}; other shardline commands with the same --data-dir use it.\n` +
            `AWS tools (and --target aws) reach it after: eval "$(shardline env --data-dir ${opts.dataDir})"\n` +
            `Press Ctrl-C to stop.\n`,
        );
      }
      await untilSignal();
      log('stopping: draining the pipeline...');
      await cloud.drain({ timeoutMs: 30_000 }).catch((err: Error) => log(`drain: ${err.message}`));
      await cloud.stop();
    });
}
