/**
 * `shardline reconcile`: recomputes every rollup from the archive and compares with DynamoDB.
 * Exits 1 on any drift.
 */
import type { Command } from 'commander';
import { reconcile } from '../../queries/reconcile.ts';
import { openCliDynamo } from '../local.ts';
import { formatTable, loadConfig, parseTime, printJson, withCommonOptions } from '../shared.ts';

export function register(program: Command): void {
  withCommonOptions(
    program
      .command('reconcile')
      .description(
        'recompute every rollup from the archive (SQL) and compare with the DynamoDB aggregates; exit 1 on drift',
      )
      .option('--from <time>', 'start of the event-time range (ISO, epoch ms, now, -1h)', parseTime('--from'))
      .option('--to <time>', 'end of the event-time range (ISO, epoch ms, now, -1h)', parseTime('--to'))
      .option(
        '--rollup <name>',
        'only this rollup (repeatable)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--json', 'print the report as JSON'),
  ).action(
    async (opts: {
      from?: number;
      to?: number;
      rollup: string[];
      json?: boolean;
      config?: string;
      dataDir: string;
    }) => {
      const config = await loadConfig(opts.config);
      const to = opts.to ?? Date.now();
      const from = opts.from ?? to - 24 * 3_600_000;
      const dynamo = await openCliDynamo(opts.dataDir, config);
      try {
        const report = await reconcile({
          config,
          dataDir: opts.dataDir,
          client: dynamo.client,
          from,
          to,
          rollups: opts.rollup.length > 0 ? opts.rollup : undefined,
        });
        if (opts.json) printJson(report);
        else {
          process.stdout.write(
            `reconcile ${report.from} .. ${report.to}: ${report.rollupsChecked} rollups, ${report.windowsChecked} windows checked, ` +
              `${report.drifts.length} drifts (sums within ${report.sumTolerance} relative)\n`,
          );
          if (report.drifts.length > 0) {
            const rows = report.drifts.map((d) => ({ ...d, dims: JSON.stringify(d.dims) }));
            process.stdout.write(`${formatTable(rows)}\n`);
          } else process.stdout.write('OK: the aggregates match the archive exactly\n');
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        await dynamo.close();
      }
    },
  );
}
