/**
 * `shardline status`: per shard, what the processor has done (from the shard checkpoint items) and how far
 * behind the stream it is (MillisBehindLatest right after its watermark), plus the on-failure
 * destination's depth. `--target aws` reads a deployed stack's stream, table and on-failure queue.
 */
import type { Command } from 'commander';
import { readStatus } from '../../queries/status.ts';
import { formatTable, loadConfig, printJson, withCommonOptions } from '../shared.ts';
import { resolveTarget, type TargetName, withTargetOptions } from '../target.ts';

/**
 * Why the processor's CloudWatch `IteratorAge` is not shown: this version does not read CloudWatch. The
 * per-shard `lagMs` measures the same thing from the stream itself.
 */
export const ITERATOR_AGE_NOTE =
  "iterator age: CloudWatch's IteratorAge metric is not read by this version; each shard's lagMs is measured from the stream (the arrival time of the first record after the processor's watermark)";

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('status')
        .description('per shard: records processed, quarantined, watermark, lag; the on-failure depth'),
    ),
  )
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        config?: string;
        dataDir: string;
        json?: boolean;
        target: TargetName;
        stack?: string;
      }) => {
        const target = await resolveTarget(await loadConfig(opts.config), opts);
        const status = await target.withStream((clients) => readStatus(target.config, clients));
        const onFailure = await target.onFailureDepth();
        if (opts.json) {
          printJson({ target: target.name, ...status, onFailure, notes: [ITERATOR_AGE_NOTE] });
          return;
        }
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
          )}\n\ntotal: ${status.totals.records} records, ${status.totals.aggregated} aggregated, ${status.totals.quarantined} quarantined (${status.totals.late} late)\n` +
            `on-failure: ${onFailure.records ?? '?'} records (${onFailure.note})\n${ITERATOR_AGE_NOTE}\n`,
        );
      },
    );
}
