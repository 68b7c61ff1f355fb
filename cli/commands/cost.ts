/**
 * `shardline cost`: monthly AWS cost estimate of the configured pipeline, per service, beside a naive
 * design (one DynamoDB write per record) and Managed Service for Apache Flink.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../../common/config.ts';
import { UsageError } from '../../common/errors.ts';
import { type CostEstimate, estimateMonthlyCost, type MeasuredUsage } from '../../infra/aws/cost.ts';
import { PRICES, SECONDS_PER_MONTH } from '../../infra/aws/prices.ts';
import { claimDataDir } from '../data-dir.ts';
import { DEFAULT_DATA_DIR, formatTable, loadConfig, printJson } from '../shared.ts';

interface CostOptions {
  rate: number;
  recordBytes: number;
  groups: number;
  json?: boolean;
  config?: string;
  measure?: boolean;
  scenario: 'iot' | 'web' | 'mixed';
  seconds: number;
  dataDir: string;
  kpl?: boolean;
}

/** Where the last measured run is kept: `<data-dir>/cost/measured.json`. */
export function measuredFile(dataDir: string): string {
  return join(resolve(dataDir), 'cost', 'measured.json');
}

interface SavedMeasurement {
  /** The resolved config the run used, to tell whether it still matches. */
  config: ResolvedConfig;
  usage: MeasuredUsage;
}

function readSaved(dataDir: string): SavedMeasurement | undefined {
  const file = measuredFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SavedMeasurement;
  } catch {
    return undefined;
  }
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
  const m = e.measured;
  const basis = m
    ? `Usage measured: ${m.method}. Run of ${m.takenAt}.`
    : 'Usage from assumptions (no measured run: `shardline cost --measure` runs the local pipeline and meters it).';
  return [
    `Monthly estimate at ${a.ratePerSecond} records/s of ${a.recordBytes} B (${e.derived.shards} shards), ${e.region} list prices as of ${e.pricesAsOf}.`,
    basis,
    'naive = one DynamoDB write per record per rollup window; flink = Managed Service for Apache Flink instead of Lambda.',
    '',
    formatTable(rows, ['service', 'shardline', 'naive', 'flink']),
    '',
    `Processing (Lambda + DynamoDB vs Flink KPUs + its DynamoDB sink): ${usd(e.processing.shardline)} vs ${usd(e.processing.flink)} = ${e.processing.ratio.toFixed(3)}x`,
    ...(m?.visibleMs
      ? [
          `Live rollups visible after arrival in the measured run: p50 ${m.visibleMs.p50} ms, p99 ${m.visibleMs.p99} ms.`,
        ]
      : []),
    ...(m ? ['', writesTable(e, m)] : []),
    '',
    ...e.lines.map((l) => `  ${l.service}: ${l.note}`),
    '',
    `Not included: Athena scans ($${PRICES.athena.perTBScanned}/TB), DynamoDB storage, data transfer, free tiers. Source: ${e.source}.`,
  ].join('\n');
}

/** DynamoDB writes of the measured run by rollup window: when they are written, and what they cost. */
function writesTable(e: CostEstimate, m: MeasuredUsage): string {
  const rate = e.assumptions.ratePerSecond;
  const perSecond = (per1000: number) => (per1000 * rate) / 1000;
  const month = (per1000: number) =>
    (perSecond(per1000) * SECONDS_PER_MONTH * PRICES.dynamodb.writeRequestUnitsPerMillion) / 1e6;
  const rows = Object.entries(m.writeUnitsBy).map(([kind, w]) => ({
    written: kind === '_shards' ? 'shard checkpoints' : kind,
    when:
      w.onClose > 0 && w.live === 0 ? 'window close' : w.live > 0 && w.onClose === 0 ? 'every batch' : 'both',
    'units/s': perSecond(w.live + w.onClose).toFixed(2),
    'on-demand/month': usd(month(w.live + w.onClose)),
  }));
  return [
    `DynamoDB write units at ${rate} events/s by what is written (measured):`,
    formatTable(rows, ['written', 'when', 'units/s', 'on-demand/month']),
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
    .option('--measure', 'run the local pipeline on this config for a bounded time and meter what AWS bills')
    .option(
      '--scenario <name>',
      'workload of the measured run: iot, web or mixed',
      (v: string) => {
        if (v !== 'iot' && v !== 'web' && v !== 'mixed')
          throw new UsageError(`--scenario must be iot, web or mixed; got ${JSON.stringify(v)}`);
        return v;
      },
      'iot',
    )
    .option(
      '--seconds <s>',
      'seconds of producing in the measured run (5-90)',
      parseNumber('--seconds', 5, 90),
      40,
    )
    .option('--data-dir <dir>', 'where the last measured run is kept (cost/measured.json)', DEFAULT_DATA_DIR)
    .option(
      '--no-kpl',
      'measured run: one Kinesis record per event instead of KPL aggregates (the SDK default)',
    )
    .option('--json', 'print the estimate as JSON')
    .action(async (opts: CostOptions) => {
      const config = await loadConfig(opts.config);
      const assumptions = {
        ratePerSecond: opts.rate,
        recordBytes: opts.recordBytes,
        groupsPerBatch: opts.groups,
      };
      let usage: MeasuredUsage | undefined;
      if (opts.measure) {
        const { measureUsage } = await import('../../infra/local/measure.ts');
        usage = await measureUsage({
          config,
          // Measured at the requested rate where the local pipeline keeps up, then scaled per event.
          rate: Math.min(5000, Math.max(1, opts.rate)),
          recordBytes: Math.min(32_768, Math.max(100, opts.recordBytes)),
          scenario: opts.scenario,
          seconds: opts.seconds,
          kpl: opts.kpl !== false,
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        const file = measuredFile(opts.dataDir);
        claimDataDir(opts.dataDir); // so a later `npm start` accepts (and keeps) it
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, `${JSON.stringify({ config, usage } satisfies SavedMeasurement, null, 2)}\n`);
        process.stderr.write(`measure: saved to ${file}\n`);
      } else {
        const saved = readSaved(opts.dataDir);
        if (saved !== undefined) {
          usage = saved.usage;
          const same = JSON.stringify(saved.config) === JSON.stringify(config);
          process.stderr.write(
            `Using the measured run of ${saved.usage.takenAt} (${measuredFile(opts.dataDir)})${same ? '' : ', taken with a DIFFERENT config: run --measure again'}.\n`,
          );
        }
      }
      const estimate = estimateMonthlyCost(config, assumptions, usage);
      if (opts.json) printJson(estimate);
      else process.stdout.write(`${formatEstimate(estimate)}\n`);
    });
}
