import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { kinesisClient } from '../../../../common/aws.ts';
import { ServiceError } from '../../../../common/errors.ts';
import { startDynamo, startKinesis } from '../../../../infra/local/emulators.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe.each([false, true])('emulators (worker thread: %s)', (thread) => {
  it('kinesalite listens on a free loopback port and persists streams under <dataDir>/kinesis', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'emu-k-'));
    const first = await startKinesis({ dataDir, thread });
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Kinesis needs the project's HTTP/1.1 client; it takes its endpoint from the standard variable.
    process.env.AWS_ENDPOINT_URL_KINESIS = first.endpoint;
    process.env.AWS_ACCESS_KEY_ID ||= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ||= 'test';
    const c1 = kinesisClient();
    await c1.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 1 }));
    // Let kinesalite finish its own CREATING -> ACTIVE write before its store closes.
    for (let status = ''; status !== 'ACTIVE'; ) {
      const out = await c1.send(new DescribeStreamSummaryCommand({ StreamName: 'kept' }));
      status = out.StreamDescriptionSummary?.StreamStatus ?? '';
    }
    c1.destroy();
    await first.close();
    const second = await startKinesis({ dataDir, thread });
    process.env.AWS_ENDPOINT_URL_KINESIS = second.endpoint;
    const c2 = kinesisClient();
    const out = await c2.send(new ListStreamsCommand({}));
    c2.destroy();
    await second.close();
    expect(out.StreamNames).toEqual(['kept']);
  });

  it('dynalite persists tables under <dataDir>/dynamodb; without dataDir it is in memory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'emu-d-'));
    const create = async (endpoint: string) => {
      const c = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
      await c.send(
        new CreateTableCommand({
          TableName: 'kept',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      c.destroy();
    };
    const list = async (endpoint: string) => {
      const c = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
      const out = await c.send(new ListTablesCommand({}));
      c.destroy();
      return out.TableNames;
    };
    const persisted = await startDynamo({ dataDir, thread });
    await create(persisted.endpoint);
    await persisted.close();
    const reopened = await startDynamo({ dataDir, thread });
    expect(await list(reopened.endpoint)).toEqual(['kept']);
    await reopened.close();
    const memory = await startDynamo({ thread });
    await create(memory.endpoint);
    await memory.close();
    const memory2 = await startDynamo({ thread });
    expect(await list(memory2.endpoint)).toEqual([]);
    await memory2.close();
  });

  it('rejects an invalid port with the value received', async () => {
    await expect(startKinesis({ port: 70_000, thread })).rejects.toThrow(
      /between 0 and 65535; received 70000/,
    );
    await expect(startKinesis({ port: 70_000, thread })).rejects.toBeInstanceOf(ServiceError);
  });

  it('reports a port already in use as a ServiceError naming the address', async () => {
    const first = await startDynamo();
    const port = Number(new URL(first.endpoint).port);
    try {
      const second = startDynamo({ port, thread });
      await expect(second).rejects.toBeInstanceOf(ServiceError);
      await expect(startDynamo({ port, thread })).rejects.toThrow(
        new RegExp(`dynalite could not listen on 127\\.0\\.0\\.1:${port}`),
      );
    } finally {
      await first.close();
    }
  });
});
