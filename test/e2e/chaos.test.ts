/**
 * `shardline demo --chaos` end to end (a real child process): every fault kind is injected, nothing is
 * discarded, every record is counted exactly once (reconcile) and conservation holds.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../cli/commands/demo.ts';
import { resolveConfig } from '../../common/config.ts';
import repositoryConfig from '../../shardline.config.ts';

const run = promisify(execFile);

/** This process's environment without what a local cloud in another test may have set. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('SHARDLINE_') || k.startsWith('AWS_ENDPOINT_URL')) delete env[k];
  return env;
}

describe('demo --chaos', () => {
  it('reconciles exactly under injected faults and reports what it injected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-e2e-'));
    const summaryFile = join(dir, 'summary.json');
    // The repository's config with more shards and no batching window: enough invocations in 8 s for
    // every fault kind to fire (tumbling windows and KPL aggregation as by default).
    const configFile = join(dir, 'chaos.config.mjs');
    const chaosConfig = {
      ...repositoryConfig,
      stream: { ...repositoryConfig.stream, shardCount: 4 },
      eventSource: { ...repositoryConfig.eventSource, maximumBatchingWindowInSeconds: 0 },
    };
    writeFileSync(configFile, `export default ${JSON.stringify(chaosConfig)};\n`);
    await run(
      process.execPath,
      [
        'bin/shardline.mjs',
        'demo',
        '--duration',
        '8',
        '--rate',
        '500',
        '--chaos',
        '--seed',
        '3',
        '--data-dir',
        join(dir, 'data'),
        '--summary-json',
        summaryFile,
        '--config',
        configFile,
      ],
      { cwd: join(import.meta.dirname, '../..'), timeout: 100_000, env: cleanEnv() },
    );
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary;
    expect(s.ok).toBe(true);
    expect(s.reconcile.ok).toBe(true);
    expect(s.reconcile.drifts).toEqual([]);
    expect(s.produced).toBe(s.aggregated + s.quarantined);
    expect(s.produced).toBeGreaterThan(3000);
    const f = s.faults;
    expect(f).toBeDefined();
    for (const key of ['retries', 'bisects', 'throttles', 'timeouts', 'duplicates', 'reshards'] as const) {
      expect(f?.[key], key).toBeGreaterThan(0);
    }
    expect(f?.observed.onFailure).toBe(0);
    expect(f?.reshardErrors).toEqual([]);
    // The configured shards + 2 children of the split + 1 of the merge.
    expect(f?.observed.shards).toBe(resolveConfig(chaosConfig).stream.shardCount + 3);
  }, 120_000);
});
