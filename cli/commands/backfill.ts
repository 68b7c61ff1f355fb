/**
 * `shardline backfill --from T --to T`: rebuilds the closed aggregates of a range from the archive (after a
 * bug fix, or for a new rollup) and reports what changed; `reconcile` passes afterwards.
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { backfill } from '../../queries/backfill.ts';
import {
  athenaProgress,
  formatTable,
  loadConfig,
  parseTime,
  printJson,
  withCommonOptions,
} from '../shared.ts';
import { resolveTarget, type TargetName, withTargetOptions } from '../target.ts';

interface BackfillFlags {
  from?: number;
  to?: number;
  rollup: string[];
  json?: boolean;
  dryRun?: boolean;
  config?: string;
  dataDir: string;
  target: TargetName;
  stack?: string;
}

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('backfill')
        .description(
          'rebuild the aggregates of a range from the archive (closed windows only): one backfill item per key replaces the shard items',
        )
        .option(
          '--from <time>',
          'start of the event-time range (ISO, epoch ms, now, -1d); required',
          parseTime('--from'),
        )
        .option('--to <time>', 'end of the event-time range (ISO, epoch ms, now, -1h)', parseTime('--to'))
        .option(
          '--rollup <name>',
          'only this rollup (repeatable)',
          (v: string, acc: string[]) => [...acc, v],
          [] as string[],
        )
        .option('--dry-run', 'report what would change without writing')
        .option('--json', 'print the report as JSON'),
    ),
  ).action(async (opts: BackfillFlags) => {
    if (opts.from === undefined) throw new UsageError('backfill: --from is required (e.g. --from -2d)');
    const target = await resolveTarget(await loadConfig(opts.config), opts);
    const { config } = target;
    const to = opts.to ?? Date.now();
    const dynamo = await target.openAggregates();
    const archive = await target.openArchive({ onState: athenaProgress() }).catch(async (err: unknown) => {
      await dynamo.close();
      throw err;
    });
    try {
      const report = await backfill({
        config,
        archive,
        client: dynamo.client,
        from: opts.from,
        to,
        rollups: opts.rollup.length > 0 ? opts.rollup : undefined,
        dryRun: opts.dryRun,
      });
      if (opts.json) {
        printJson(report);
        return;
      }
      const verb = report.dryRun ? 'would write' : 'wrote';
      process.stdout.write(
        `backfill ${report.from} .. ${report.to}${report.dryRun ? ' (dry run)' : ''}: ${report.eventsRead} archive events, ` +
          `${report.keysChecked} keys checked; ${verb} ${report.keysWritten}, removed ${report.keysRemoved}, ` +
          `deleted ${report.itemsDeleted} shard items, ${report.keysUnchanged} unchanged; ${report.driftsFixed} drifts fixed\n`,
      );
      const segs = report.segments.map((s) => ({
        rollup: s.rollup,
        window: s.window,
        rebuilt: s.rebuilt ? `${s.rebuilt.from} .. ${s.rebuilt.to}` : '(nothing closed)',
        events: s.eventsRead,
        keys: s.keys,
      }));
      process.stdout.write(`${formatTable(segs)}\n`);
      const drifts = report.changes.filter((c) => c.drift);
      if (drifts.length > 0) {
        process.stdout.write(
          `${formatTable(drifts.slice(0, 50).map((c) => ({ ...c, dims: JSON.stringify(c.dims) })))}\n`,
        );
        if (drifts.length > 50) process.stdout.write(`... and ${drifts.length - 50} more (use --json)\n`);
      }
      for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
    } finally {
      await archive.close();
      await dynamo.close();
    }
  });
}
