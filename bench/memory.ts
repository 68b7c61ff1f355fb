/**
 * Memory: peak RSS of the processor handler on a maximum-size batch (10,000 records), in a child process
 * that runs only the handler, bundled by esbuild the way CDK bundles the Lambda, against dynalite.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { dynamodbClient } from '../common/aws.ts';
import { resolveConfig } from '../common/config.ts';
import { ensureTable } from '../infra/local/cloud.ts';
import { LOCAL_CREDENTIALS } from '../infra/local/connect.ts';
import { startDynamo } from '../infra/local/emulators.ts';
import { generateFleet, toEvent } from './data.ts';

export interface MemoryResult {
  peakRssMb: number;
  batchRecords: number;
  batchBytes: number;
  /** The memory the handler must fit in (the target; the stack itself deploys more by default). */
  lambdaMemoryMb: number;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function benchMemory(options: { batchRecords?: number } = {}): Promise<MemoryResult> {
  const batchRecords = options.batchRecords ?? 10_000;
  const config = resolveConfig({});
  const dir = mkdtempSync(join(tmpdir(), 'shardline-bench-memory-'));
  const dynamo = await startDynamo();
  try {
    const client = dynamodbClient({
      endpoint: dynamo.endpoint,
      region: config.region,
      credentials: { ...LOCAL_CREDENTIALS },
    });
    await ensureTable(client, config.table.name);
    client.destroy();
    const bundle = join(dir, 'handler.mjs');
    await build({
      entryPoints: [join(here, '..', 'processors', 'handler.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      logLevel: 'silent',
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    const fleet = generateFleet({ records: batchRecords, startMs: Date.now() - 60_000, rate: 1000 });
    const event = toEvent(fleet.map((r) => ({ ...r, shard: 0, arrivalMs: Date.now() })));
    const eventFile = join(dir, 'event.json');
    const text = JSON.stringify(event);
    writeFileSync(eventFile, text);
    // Asynchronously: dynalite answers the child from this process's event loop.
    const { stdout: out } = await promisify(execFile)(
      process.execPath,
      [join(here, 'memory-child.mjs'), bundle, eventFile],
      {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_REGION: config.region,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_ENDPOINT_URL_FIREHOSE: 'http://127.0.0.1:9',
          SHARDLINE_CONFIG: JSON.stringify(config),
          SHARDLINE_LOG_LEVEL: 'silent',
          NODE_OPTIONS: '',
          // No NODE_PATH: the bundle must run on its own, as the deployed asset (no node_modules) does.
        },
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      maxRssKb: number;
      vmHwmKb: number | null;
      failures: number;
    };
    if (r.failures > 0) throw new Error('memory bench: the handler reported failures');
    return {
      // VmHWM is the child's own high-water mark since its exec. getrusage's maxRSS is not: after a large
      // run in this process (the pipeline bench) the child starts with a maxRSS of 200+ MB before it has
      // done anything, while its VmHWM at the end stays near 150 MB. maxRSS only where /proc is missing.
      peakRssMb: (r.vmHwmKb ?? r.maxRssKb) / 1024,
      batchRecords,
      batchBytes: fleet.reduce((n, x) => n + Buffer.byteLength(x.json), 0),
      lambdaMemoryMb: 256,
    };
  } finally {
    await dynamo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
