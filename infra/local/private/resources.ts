/**
 * Creating the local cloud's stream and table when absent, and waiting until the emulators report them
 * ACTIVE.
 */
import {
  CreateTableCommand,
  ResourceNotFoundException as DdbNotFound,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  type KinesisClient,
  ResourceNotFoundException as KinesisNotFound,
} from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ServiceError } from '../../../common/errors.ts';
import { tableDefinition } from '../../../common/table.ts';

/** Creates the configured stream if absent (with its retention) and waits until it is ACTIVE. */
export async function ensureStream(kinesis: KinesisClient, config: ResolvedConfig): Promise<void> {
  const name = config.stream.name;
  const status = async (): Promise<string | undefined> => {
    try {
      const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      return out.StreamDescriptionSummary?.StreamStatus;
    } catch (err) {
      if (err instanceof KinesisNotFound || (err as Error).name === 'ResourceNotFoundException')
        return undefined;
      throw err;
    }
  };
  if ((await status()) === undefined) {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: config.stream.shardCount }));
    await waitFor(async () => (await status()) === 'ACTIVE', `stream ${name} to become ACTIVE`);
    if (config.stream.retentionHours > 24) {
      await kinesis.send(
        new IncreaseStreamRetentionPeriodCommand({
          StreamName: name,
          RetentionPeriodHours: config.stream.retentionHours,
        }),
      );
    }
  }
  await waitFor(async () => (await status()) === 'ACTIVE', `stream ${name} to become ACTIVE`);
}

/** Creates the aggregates table if absent and waits until it is ACTIVE (dynalite answers CREATING first). */
export async function ensureTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  const status = async (): Promise<string | undefined> => {
    try {
      const out = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      return out.Table?.TableStatus;
    } catch (err) {
      if (err instanceof DdbNotFound || (err as Error).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  };
  if ((await status()) === undefined) await dynamodb.send(new CreateTableCommand(tableDefinition(tableName)));
  await waitFor(async () => (await status()) === 'ACTIVE', `table ${tableName} to become ACTIVE`);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new ServiceError(`timed out after ${timeoutMs} ms waiting for ${what}`, { retryable: true });
    await new Promise((r) => setTimeout(r, 20));
  }
}
