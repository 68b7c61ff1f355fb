/**
 * `shardline status`: per shard, what the processor has done (from the shard checkpoint items) and how far
 * behind the stream it is (MillisBehindLatest right after its watermark).
 */
import type { Command } from 'commander';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { readStatus } from '../../queries/status.ts';
import { localClientOptions, withLocalCloud } from '../local.ts';
import { formatTable, loadConfig, printJson, withCommonOptions } from '../shared.ts';

export function register(program: Command): void {
  withCommonOptions(
    program.command('status').description('per shard: records processed, quarantined, watermark, lag'),
  )
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; dataDir: string; json?: boolean }) => {
      const config = await loadConfig(opts.config);
      await withLocalCloud(config, opts.dataDir, async (info) => {
        const clients = {
          kinesis: kinesisClient(localClientOptions(info, 'kinesis')),
          dynamodb: dynamodbClient(localClientOptions(info, 'dynamodb')),
        };
        const status = await readStatus(config, clients).finally(() => {
          clients.kinesis.destroy();
          clients.dynamodb.destroy();
        });
        if (opts.json) return printJson(status);
        process.stdout.write(
          `${formatTable(
            status.shards.map((s) => ({
              shard: s.shardId,
              open: s.open ? 'yes' : 'closed',
              records: s.records,
              aggregated: s.aggregated,
              quarantined: s.quarantined,
              late: s.late,
              lag: s.lagMs === null ? '?' : `${(s.lagMs / 1000).toFixed(1)}s`,
              watermark: s.watermark ? `...${s.watermark.slice(-12)}` : '',
            })),
          )}\n\ntotal: ${status.totals.records} records, ${status.totals.aggregated} aggregated, ${status.totals.quarantined} quarantined (${status.totals.late} late)\n`,
        );
      });
    });
}
