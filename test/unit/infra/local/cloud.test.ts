import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamodbClient, kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { encodeEnvelope } from '../../../../common/envelope.ts';
import { type CloudInfo, LocalCloud } from '../../../../infra/local/cloud.ts';
import type { KinesisHandler } from '../../../../infra/local/esm.ts';
import { readStatus } from '../../../../queries/status.ts';
import { recorder } from '../../../helpers/esm.ts';
import { makeEvent } from '../../../helpers/factories.ts';

async function putAll(cloud: LocalCloud, values: string[]): Promise<void> {
  const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: cloud.streamName,
      Records: values.map((v, i) => ({ Data: Buffer.from(v), PartitionKey: `k${i}` })),
    }),
  );
  kinesis.destroy();
}

const config = resolveConfig({
  stream: { name: 'cloud-test', shardCount: 2 },
  table: { name: 'cloud-test-aggregates' },
  eventSource: { maximumBatchingWindowInSeconds: 0 },
  archive: { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 0 },
});
const tuning = { pollIntervalMs: 20, shardDiscoveryIntervalMs: 100, retryBackoffMs: 1 };
const dataDirs: string[] = [];
afterAll(() => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(d);
  return d;
}
/** A cloud on `dataDir` with the mapping delivering to `handler` and no Firehose. */
const startWith = (dataDir: string, handler: KinesisHandler) =>
  LocalCloud.start({ config, dataDir, handler, firehose: false, esmTuning: tuning });

describe('LocalCloud', () => {
  it('creates stream and table, leaves the environment alone, delivers to the handler, resumes after restart', async () => {
    // Arrange
    const dataDir = tempDir('cloud-');
    const before = { ...process.env };
    const first = recorder();
    const cloud = await startWith(dataDir, first.handler);
    try {
      // Act
      await putAll(cloud, ['a', 'b', 'c', 'd']);
      await cloud.drain({ timeoutMs: 20_000 });
      // Assert
      expect(first.data().sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(cloud.streamArn).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/cloud-test');
      expect(cloud.archiveDir).toBe(join(dataDir, 's3', 'shardline-archive'));
      expect(process.env).toEqual(before);
      expect(cloud.clientOptions('kinesis')).toMatchObject({
        endpoint: cloud.endpoints.kinesis,
        region: 'us-east-1',
      });
      expect(cloud.clientOptions('dynamodb')).toMatchObject({ endpoint: cloud.endpoints.dynamodb });
      expect(cloud.env()).toMatchObject({
        AWS_ENDPOINT_URL_KINESIS: cloud.endpoints.kinesis,
        AWS_REGION: 'us-east-1',
        SHARDLINE_TABLE: 'cloud-test-aggregates',
      });
      const ddb = dynamodbClient(cloud.clientOptions('dynamodb'));
      const table = await ddb.send(new DescribeTableCommand({ TableName: 'cloud-test-aggregates' }));
      ddb.destroy();
      expect(table.Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
      const info = JSON.parse(readFileSync(join(dataDir, 'cloud.json'), 'utf8')) as CloudInfo;
      expect(info.endpoints.kinesis).toBe(cloud.endpoints.kinesis);
      expect(cloud.stats().esm).toHaveLength(2);
    } catch (err) {
      await cloud.stop();
      throw err;
    }
    await cloud.stop();
    expect(existsSync(join(dataDir, 'cloud.json'))).toBe(false);
    expect(process.env).toEqual(before);

    // Restart on the same data dir: stream, records and checkpoints survive; nothing is redelivered.
    const second = recorder();
    const again = await startWith(dataDir, second.handler);
    try {
      await putAll(again, ['e']);
      await again.drain({ timeoutMs: 20_000 });
    } finally {
      await again.stop();
    }
    expect(second.data()).toEqual(['e']);
  });

  it('composes the local Firehose: drain waits for the archive too', async () => {
    const dataDir = tempDir('cloud-fh-');
    const rec = recorder();
    const cloud = await LocalCloud.start({
      config,
      dataDir,
      handler: rec.handler,
      esmTuning: tuning,
      firehoseTuning: { pollIntervalMs: 20 },
    });
    try {
      expect(cloud.endpoints.firehose).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(cloud.clientOptions('firehose').endpoint).toBe(cloud.endpoints.firehose);
      await putAll(cloud, ['{"x":1}', '{"x":2}', '{"x":3}']);
      await cloud.drain({ timeoutMs: 30_000 });
      expect(rec.data()).toHaveLength(3);
      expect(cloud.stats().firehose).toMatchObject({ recordsRead: 3 });
    } finally {
      await cloud.stop();
    }
  });

  it('runs two clouds side by side in one process, each processor on its own config and clients', async () => {
    const configs = ['left', 'right'].map((name) =>
      resolveConfig({
        stream: { name: `side-${name}`, shardCount: 1 },
        table: { name: `side-${name}-aggregates` },
        eventSource: { maximumBatchingWindowInSeconds: 0 },
      }),
    );
    const clouds: LocalCloud[] = [];
    try {
      for (const [i, c] of configs.entries()) {
        clouds.push(
          await LocalCloud.start({
            config: c,
            dataDir: tempDir(`side-${i}-`),
            firehose: false,
            esmTuning: tuning,
          }),
        );
      }
      const [left, right] = clouds as [LocalCloud, LocalCloud];
      // Three events into the left cloud, five into the right, both running the default processor.
      await putAll(
        left,
        [1, 2, 3].map(() => encodeEnvelope(makeEvent({ ts: new Date().toISOString() }))),
      );
      await putAll(
        right,
        [1, 2, 3, 4, 5].map(() => encodeEnvelope(makeEvent({ ts: new Date().toISOString() }))),
      );
      await Promise.all(clouds.map((c) => c.drain({ timeoutMs: 20_000 })));
      const totals = await Promise.all(
        clouds.map(async (c) => {
          const clients = {
            kinesis: kinesisClient(c.clientOptions('kinesis')),
            dynamodb: dynamodbClient(c.clientOptions('dynamodb')),
          };
          const status = await readStatus(c.config, clients);
          clients.kinesis.destroy();
          clients.dynamodb.destroy();
          return status.totals.aggregated;
        }),
      );
      expect(totals).toEqual([3, 5]);
    } finally {
      for (const c of clouds) await c.stop();
    }
  });
});
