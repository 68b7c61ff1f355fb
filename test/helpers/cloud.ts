/**
 * A whole local cloud in-process on a temp data dir, with poll intervals short enough for tests, and SDK
 * clients on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import type { ResolvedConfig } from '../../common/config.ts';
import { LocalCloud, type LocalCloudOptions } from '../../infra/local/index.ts';

export interface TestCloud {
  readonly cloud: LocalCloud;
  readonly dataDir: string;
  /** Clients on the cloud's emulators (destroyed by `stop`). */
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** Stops the cloud and deletes its data dir. */
  stop(): Promise<void>;
}

export async function startTestCloud(
  config: ResolvedConfig,
  name: string,
  options: Partial<Omit<LocalCloudOptions, 'config' | 'dataDir'>> = {},
): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), `shardline-${name}-`));
  const cloud = await LocalCloud.start({
    config,
    dataDir,
    esmTuning: { pollIntervalMs: 200 },
    firehoseTuning: { pollIntervalMs: 200 },
    ...options,
  });
  const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
  const dynamodb = dynamodbClient(cloud.clientOptions('dynamodb'));
  return {
    cloud,
    dataDir,
    kinesis,
    dynamodb,
    async stop() {
      kinesis.destroy();
      dynamodb.destroy();
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
