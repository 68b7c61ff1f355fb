/**
 * `shardline reconcile`: recomputes every rollup from the archive and compares with DynamoDB.
 * Exits 1 on drift in a settled window; differences in windows that have not settled (their events may
 * still be in Firehose's buffer or arrive late) are reported as pending.
 */
import type { Command } from 'commander';
import { reconcile } from '../../queries/reconcile.ts';
import {
  athenaProgress,
  formatTable,
  loadConfig,
  parseTime,
  printJson,
  withCommonOptions,
} from '../shared.ts';
import { resolveTarget, type TargetName, withTargetOptions } from '../target.ts';

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('reconcile')
        .description(
          'recompute every rollup from the archive (SQL: DuckDB locally, Athena for a stack) and compare with the DynamoDB aggregates; exit 1 on drift in settled windows',
        )
        .option(
          '--from <time>',
          'start of the event-time range (ISO, epoch ms, now, -1h)',
          parseTime('--from'),
        )
        .option('--to <time>', 'end of the event-time range (ISO, epoch ms, now, -1h)', parseTime('--to'))
        .option(
          '--rollup <name>',
          'only this rollup (repeatable)',
          (v: string, acc: string[]) => [...acc, v],
          [] as string[],
        )
        .option(
          '--settled-only',
          'compare only settled windows (ended more than allowed lateness + the archive buffer interval ago)',
        )
        .option('--json', 'print the report as JSON'),
    ),
  ).action(
    async (opts: {
      from?: number;
      to?: number;
      rollup: string[];
      settledOnly?: boolean;
      json?: boolean;
      config?: string;
      dataDir: string;
      target: TargetName;
      stack?: string;
    }) => {
      const target = await resolveTarget(await loadConfig(opts.config), opts);
      const { config } = target;
      const to = opts.to ?? Date.now();
      const from = opts.from ?? to - 24 * 3_600_000;
      const dynamo = await target.openAggregates();
      const archive = await target.openArchive({ onState: athenaProgress() }).catch(async (err: unknown) => {
        await dynamo.close();
        throw err;
      });
      try {
        const report = await reconcile({
          config,
          archive,
          client: dynamo.client,
          from,
          to,
          rollups: opts.rollup.length > 0 ? opts.rollup : undefined,
          settledOnly: opts.settledOnly ?? false,
        });
        if (opts.json) printJson(report);
        else {
          process.stdout.write(
            `reconcile ${report.from} .. ${report.to} (archive read by ${report.engine}): ${report.rollupsChecked} rollups, ${report.windowsChecked} windows checked, ` +
              `${report.drifts.length} drifts (sums within ${report.sumTolerance} relative), ${report.windowsPending} windows pending\n`,
          );
          if (report.drifts.length > 0) {
            const rows = report.drifts.map((d) => ({ ...d, dims: JSON.stringify(d.dims) }));
            process.stdout.write(`${formatTable(rows)}\n`);
          } else process.stdout.write('OK: the settled aggregates match the archive\n');
          if (report.windowsPending > 0) {
            process.stdout.write(
              `pending: ${report.windowsPending} windows ending after ${report.settledBefore} differ; their events may still be in Firehose's buffer or arrive late (not drift; --settled-only leaves them out)\n`,
            );
          }
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        await archive.close();
        await dynamo.close();
      }
    },
  );
}
