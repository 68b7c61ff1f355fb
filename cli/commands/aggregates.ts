/**
 * `shardline aggregates --rollup NAME`: reads merged windowed aggregates from DynamoDB.
 */
import type { Command } from 'commander';
import { quantileStats, WINDOWS, type WindowSize } from '../../common/config.ts';
import { UsageError } from '../../common/errors.ts';
import { findRollup, readAggregates } from '../../queries/aggregates.ts';
import { formatTable, loadConfig, parseTime, printJson, withCommonOptions } from '../shared.ts';
import { resolveTarget, type TargetName, withTargetOptions } from '../target.ts';

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('aggregates')
        .description('read windowed aggregates from DynamoDB (shard items merged)')
        .requiredOption('--rollup <name>', 'rollup name')
        .option('--window <w>', `window size (${WINDOWS.join(', ')}); default every window of the rollup`)
        .option('--from <time>', 'window starts at or after (ISO, epoch ms, now, -1h)', parseTime('--from'))
        .option('--to <time>', 'window starts before (ISO, epoch ms, now, -1h)', parseTime('--to'))
        .option(
          '--dim <k=v>',
          'keep only these dims (repeatable)',
          (v: string, acc: string[]) => [...acc, v],
          [] as string[],
        )
        .option('--json', 'print JSON'),
    ),
  ).action(
    async (opts: {
      rollup: string;
      window?: string;
      from?: number;
      to?: number;
      dim: string[];
      json?: boolean;
      config?: string;
      dataDir: string;
      target: TargetName;
      stack?: string;
    }) => {
      if (opts.window !== undefined && !(WINDOWS as readonly string[]).includes(opts.window)) {
        throw new UsageError(`--window must be one of ${WINDOWS.join(', ')}; received "${opts.window}"`);
      }
      const dims: Record<string, string> = {};
      for (const d of opts.dim) {
        const eq = d.indexOf('=');
        if (eq <= 0) throw new UsageError(`--dim must look like name=value; received "${d}"`);
        dims[d.slice(0, eq)] = d.slice(eq + 1);
      }
      const target = await resolveTarget(await loadConfig(opts.config), opts);
      const { config } = target;
      const dynamo = await target.openAggregates();
      try {
        const rows = await readAggregates(dynamo.client, config, {
          rollup: opts.rollup,
          window: opts.window as WindowSize | undefined,
          from: opts.from,
          to: opts.to,
          dims,
        });
        if (opts.json) {
          printJson(rows);
          return;
        }
        const quantiles = quantileStats(findRollup(config, opts.rollup).stats);
        const flat = rows.map((r) => {
          const out: Record<string, unknown> = {
            window: r.window,
            windowStart: r.windowStart,
            ...r.dims,
            count: r.count,
          };
          for (const [m, v] of Object.entries(r.metrics)) {
            out[`${m}.avg`] = v.avg;
            out[`${m}.min`] = v.min;
            out[`${m}.max`] = v.max;
            for (const [label] of quantiles) out[`${m}.${label}`] = v[label] ?? null;
          }
          for (const [f, n] of Object.entries(r.distinct ?? {})) out[`distinct:${f}`] = n;
          out.shards = r.shards;
          return out;
        });
        const columns = [...new Set(flat.flatMap((r) => Object.keys(r)))];
        process.stdout.write(`${formatTable(flat, columns)}\n`);
      } finally {
        await dynamo.close();
      }
    },
  );
}
