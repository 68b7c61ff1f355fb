/**
 * `shardline bench [--quick] [--json FILE]`: processor CPU, DynamoDB writes, pipeline throughput and
 * latency, bytes scanned and handler memory, each beside its baseline measured in the same run.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmarks: each figure with its baseline and ratio, measured side by side in one run')
    .option('--quick', 'smaller inputs (a few minutes on 2 cores)')
    .option('--json <file>', 'also write the full report as JSON to this file')
    .action(async (opts: { quick?: boolean; json?: string }) => {
      const { runBench, formatBenchMarkdown } = await import('../../bench/index.ts');
      const report = await runBench({
        quick: opts.quick ?? false,
        log: (line) => process.stderr.write(`[bench] ${line}\n`),
      });
      if (opts.json) writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`${formatBenchMarkdown(report)}\n`);
    });
}
