/**
 * `shardline cost`: monthly AWS cost estimate of the configured pipeline, per service, beside a naive
 * design (one DynamoDB write per record) and Managed Service for Apache Flink.
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { type CostEstimate, estimateMonthlyCost } from '../../infra/aws/cost.ts';
import { PRICES } from '../../infra/aws/prices.ts';
import { formatTable, loadConfig, printJson } from '../shared.ts';

interface CostOptions {
  rate: number;
  recordBytes: number;
  groups: number;
  json?: boolean;
  config?: string;
}

function parseNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(
        `${name} must be a number between ${min} and ${max}; got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** Renders an estimate as the text table the command prints. */
export function formatEstimate(e: CostEstimate): string {
  const rows = e.lines.map((l) => ({
    service: l.service,
    shardline: usd(l.shardline),
    naive: usd(l.naive),
    flink: usd(l.flink),
  }));
  rows.push({
    service: 'TOTAL / month',
    shardline: usd(e.totals.shardline),
    naive: usd(e.totals.naive),
    flink: usd(e.totals.flink),
  });
  const a = e.assumptions;
  return [
    `Monthly estimate at ${a.ratePerSecond} records/s of ${a.recordBytes} B (${e.derived.shards} shards), ${e.region} list prices as of ${e.pricesAsOf}.`,
    'naive = one DynamoDB write per record per rollup window; flink = Managed Service for Apache Flink instead of Lambda.',
    '',
    formatTable(rows, ['service', 'shardline', 'naive', 'flink']),
    '',
    ...e.lines.map((l) => `  ${l.service}: ${l.note}`),
    '',
    `Not included: Athena scans ($${PRICES.athena.perTBScanned}/TB), DynamoDB storage, data transfer, free tiers. Source: ${e.source}.`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('cost')
    .description('Estimate the monthly AWS cost of the configured pipeline, beside a naive design and Flink')
    .option('--rate <n>', 'records per second (monthly average)', parseNumber('--rate', 0, 1_000_000), 1000)
    .option(
      '--record-bytes <b>',
      'average event size in bytes',
      parseNumber('--record-bytes', 1, 1_048_576),
      300,
    )
    .option(
      '--groups <n>',
      'distinct dims groups per batch per rollup window',
      parseNumber('--groups', 1, 1e6),
      50,
    )
    .option('--config <file>', 'config file (default: shardline.config.ts)')
    .option('--json', 'print the estimate as JSON')
    .action(async (opts: CostOptions) => {
      const config = await loadConfig(opts.config);
      const estimate = estimateMonthlyCost(config, {
        ratePerSecond: opts.rate,
        recordBytes: opts.recordBytes,
        groupsPerBatch: opts.groups,
      });
      if (opts.json) printJson(estimate);
      else process.stdout.write(`${formatEstimate(estimate)}\n`);
    });
}
