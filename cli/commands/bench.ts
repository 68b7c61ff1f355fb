/**
 * `shardline bench [--quick] [--only SECTIONS] [--json FILE]`: processor CPU, DynamoDB writes, pipeline
 * throughput and latency, bytes scanned and handler memory, each beside its baseline measured in the same run.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BENCH_SECTIONS as SECTIONS, type BenchSection as Section } from '../../bench/sections.ts';
import { UsageError } from '../../common/errors.ts';

/** `--only processor,pipeline` → the sections, each checked. */
function parseSections(value: string): Section[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw new UsageError(
      `--only takes a comma-separated list of ${SECTIONS.join(', ')}; received ${JSON.stringify(value)}`,
    );
  }
  return names as Section[];
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmarks: each figure with its baseline and ratio, measured side by side in one run')
    .option('--quick', 'smaller inputs (a few minutes on 2 cores)')
    .option('--json <file>', 'also write the full report as JSON to this file')
    .option(
      '--only <sections>',
      `run only these sections (comma-separated: ${SECTIONS.join(', ')})`,
      parseSections,
    )
    .action(async (opts: { quick?: boolean; json?: string; only?: Section[] }) => {
      const { runBench, formatBenchMarkdown } = await import('../../bench/index.ts');
      const report = await runBench({
        quick: opts.quick ?? false,
        ...(opts.only ? { only: opts.only } : {}),
        log: (line) => process.stderr.write(`[bench] ${line}\n`),
      });
      if (opts.json) writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`${formatBenchMarkdown(report)}\n`);
    });
}
