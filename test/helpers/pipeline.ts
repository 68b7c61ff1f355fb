/**
 * A real local pipeline for the dashboard's tests: LocalCloud in-process (kinesalite, dynalite, the event
 * source mapping invoking the real processor; no Firehose) on a temp data dir, fed by the load generator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { type ResolvedConfig, resolveConfig } from '../../common/config.ts';
import { LocalCloud } from '../../infra/local/index.ts';
import { type ProducedRecord, produce } from '../../producers/index.ts';

export interface TestPipeline {
  readonly cloud: LocalCloud;
  readonly config: ResolvedConfig;
  readonly dataDir: string;
  /** Clients on the cloud's emulators (destroyed by `stop`). */
  readonly clients: { readonly kinesis: KinesisClient; readonly dynamodb: DynamoDBClient };
  /** Produces `count` IoT events whose times start at `startTimeMs`, then waits until all are processed. */
  produceAt(startTimeMs: number, count: number, seed?: number): Promise<readonly ProducedRecord[]>;
  stop(): Promise<void>;
}

export async function startPipeline(name: string): Promise<TestPipeline> {
  const config = resolveConfig({
    stream: { name: `${name}-events`, shardCount: 2 },
    table: { name: `${name}-aggregates` },
    eventSource: { maximumBatchingWindowInSeconds: 0 },
    archive: { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 0 },
  });
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const cloud = await LocalCloud.start({
    config,
    dataDir,
    firehose: false,
    esmTuning: { pollIntervalMs: 25, shardDiscoveryIntervalMs: 200, retryBackoffMs: 1 },
  });
  let seeds = 0;
  const clients = {
    kinesis: kinesisClient(cloud.clientOptions('kinesis')),
    dynamodb: dynamodbClient(cloud.clientOptions('dynamodb')),
  };
  return {
    cloud,
    config,
    dataDir,
    clients,
    async produceAt(startTimeMs, count, seed) {
      const { records, report } = await produce({
        client: clients.kinesis,
        streamName: config.stream.name,
        count,
        rate: 20_000,
        devices: 12,
        seed: seed ?? ++seeds,
        startTimeMs,
        kpl: false, // one Kinesis record per event: the status panel counts records
      });
      if (report.failed > 0) throw new Error(`produce failed ${report.failed} records`);
      await cloud.drain({ timeoutMs: 30_000 });
      return records;
    },
    async stop() {
      clients.kinesis.destroy();
      clients.dynamodb.destroy();
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Start of the `1m` window `k` minutes before the current one. */
export function minutesAgo(k: number, now = Date.now()): number {
  return Math.floor(now / 60_000) * 60_000 - k * 60_000;
}
