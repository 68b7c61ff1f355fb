/**
 * `shardline invoke EVENT.json`: run the processor handler once on a Lambda Kinesis event against the local
 * cloud and print its response, like `sam local invoke`.
 */
import { readFileSync } from 'node:fs';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { Command } from 'commander';
import { dynamodbClient, firehoseClient } from '../../common/aws.ts';
import { UsageError } from '../../common/errors.ts';
import { localClientOptions, withLocalCloud } from '../local.ts';
import { loadConfig, printJson, withCommonOptions } from '../shared.ts';

export function register(program: Command): void {
  withCommonOptions(
    program
      .command('invoke')
      .description('run the processor handler once on a Lambda Kinesis event file against the local cloud')
      .argument('<event.json>', 'a Lambda Kinesis event: {"Records":[...]}'),
  )
    .option('--report', 'also print what the batch did (records aggregated, quarantined, items written)')
    .action(async (file: string, opts: { config?: string; dataDir: string; report?: boolean }) => {
      let event: KinesisStreamEvent;
      try {
        event = JSON.parse(readFileSync(file, 'utf8')) as KinesisStreamEvent;
      } catch (err) {
        throw new UsageError(`${file}: expected a JSON Lambda Kinesis event; ${(err as Error).message}`);
      }
      if (!Array.isArray(event?.Records)) {
        throw new UsageError(`${file}: expected an object with a "Records" array (a Lambda Kinesis event)`);
      }
      const config = await loadConfig(opts.config);
      await withLocalCloud(
        config,
        opts.dataDir,
        async (info) => {
          const { createProcessor } = await import('../../processors/index.ts');
          const clients = {
            dynamodb: dynamodbClient(localClientOptions(info, 'dynamodb')),
            firehose: firehoseClient(localClientOptions(info, 'firehose')),
          };
          try {
            const { response, report } = await createProcessor({
              config,
              clients,
              // Warnings (a failed write or quarantine delivery) on stderr; stdout holds the JSON result.
              log: (level, message, data) => {
                if (level !== 'debug')
                  process.stderr.write(`${JSON.stringify({ level, message, ...data })}\n`);
              },
            }).processBatch(event);
            printJson(opts.report ? { response, report } : response);
          } finally {
            clients.dynamodb.destroy();
            clients.firehose.destroy();
          }
        },
        { firehose: true },
      );
    });
}
