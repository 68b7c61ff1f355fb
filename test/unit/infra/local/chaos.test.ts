/**
 * Chaos building blocks against real emulators: option validation, the seeded fault schedule, handler
 * faults, wire faults through the real SDK clients (dynalite, kinesalite) and resharding.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient, kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import {
  chaosConfig,
  FaultInjector,
  InjectedFaultError,
  mergeShards,
  openShards,
  resolveChaosOptions,
  splitShard,
} from '../../../../infra/local/chaos/index.ts';
import { type Emulator, startDynamo, startKinesis } from '../../../../infra/local/emulators.ts';
import type { KinesisHandler } from '../../../../infra/local/esm.ts';

let dynalite: Emulator;
let kinesalite: Emulator;
beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'test';
  [dynalite, kinesalite] = await Promise.all([startDynamo(), startKinesis()]);
});
afterAll(async () => {
  await Promise.all([dynalite.close(), kinesalite.close()]);
});

const noFaults = {
  handlerErrorRate: 0,
  reportedFailureRate: 0,
  timeoutRate: 0,
  duplicateRate: 0,
  dynamoThrottleRate: 0,
  dynamoErrorRate: 0,
  dynamoLostResponseRate: 0,
  getRecordsThrottleRate: 0,
};

function event(n: number): KinesisStreamEvent {
  return {
    Records: Array.from({ length: n }, (_, i) => ({
      kinesis: { sequenceNumber: String(100 + i) },
    })) as KinesisStreamEvent['Records'],
  };
}

function context(remainingMs: number): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as Context;
}

describe('chaos options', () => {
  it('rejects bad values with the value received and the rule', () => {
    expect(() => resolveChaosOptions({ timeoutRate: 0.9, functionTimeoutSeconds: 0 })).toThrow(
      /timeoutRate: must be between 0 and 0.5; received 0.9[\s\S]*functionTimeoutSeconds: must be an integer between 1 and 60; received 0/,
    );
    expect(() => resolveChaosOptions({ seed: 1.5 })).toThrow(/seed: must be an integer; received 1.5/);
  });

  it('makes a config that times out quickly and never discards a batch', () => {
    const config = chaosConfig(resolveConfig({}), resolveChaosOptions({ functionTimeoutSeconds: 3 }));
    expect(config.eventSource).toMatchObject({
      functionTimeoutSeconds: 3,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
    });
  });
});

describe('handler faults', () => {
  it('draws the same schedule from the same seed, every kind early', () => {
    const draw = (seed: number) => {
      const f = new FaultInjector({ seed });
      return Array.from({ length: 300 }, () => f.nextHandlerFault() ?? '-');
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    expect(new Set(a.slice(0, 15))).toEqual(
      new Set(['-', 'errorBefore', 'errorDuring', 'errorAfter', 'reportedFailure', 'timeout']),
    );
  });

  it('throws before, during and after the inner handler, reports failures, and outlives the timeout', async () => {
    // The injected timeout waits on a fake sleep that records how long it was asked to wait.
    const slept: number[] = [];
    const f = new FaultInjector(
      { seed: 1, ...noFaults },
      {
        sleep: async (ms) => {
          slept.push(ms);
        },
      },
    );
    let started = 0;
    let finished = 0;
    const inner: KinesisHandler = async () => {
      started++;
      await new Promise((r) => setImmediate(r));
      finished++;
      return { batchItemFailures: [] };
    };
    const wrapped = f.wrapHandler(inner);
    const results: string[] = [];
    for (let i = 1; i <= 15; i++) {
      const before = { started, finished };
      try {
        const out = await wrapped(event(4), context(200));
        results.push(JSON.stringify(out));
      } catch (err) {
        expect(err).toBeInstanceOf(InjectedFaultError);
        results.push((err as Error).message);
      }
      if (i === 3) expect({ started, finished }).toEqual(before); // before: nothing ran
      if (i === 6) expect([started, finished]).toEqual([before.started + 1, before.finished]); // during
      if (i === 9) expect(finished).toBe(before.finished + 1); // after: writes done, then the error
      if (i === 15) {
        // ran past the remaining time (200 ms), then wrote as a zombie
        expect(slept.at(-1)).toBeGreaterThan(200);
        expect(finished).toBe(before.finished + 1);
      }
    }
    expect(results[2]).toBe('injected fault: errorBefore');
    expect(results[5]).toBe('injected fault: errorDuring');
    expect(results[8]).toBe('injected fault: errorAfter');
    expect(JSON.parse(results[11] ?? '{}').batchItemFailures).toHaveLength(1);
    expect(f.counts).toMatchObject({
      errorBefore: 1,
      errorDuring: 1,
      errorAfter: 1,
      reportedFailure: 1,
      timeout: 1,
    });
  });

  it('duplicates the 4th successful batch, then at the configured rate', () => {
    const f = new FaultInjector({ seed: 1, ...noFaults });
    expect(Array.from({ length: 10 }, () => f.duplicateDelivery('s', 1))).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(f.counts.duplicate).toBe(1);
  });
});

describe('wire faults through the real SDK clients', () => {
  let ddb: DynamoDBClient;
  let kinesis: KinesisClient;
  beforeAll(async () => {
    ddb = dynamodbClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
    kinesis = kinesisClient({ endpoint: kinesalite.endpoint, region: 'us-east-1' });
    await ddb.send(
      new CreateTableCommand({
        TableName: 'chaos-wire',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(() => {
    ddb.destroy();
    kinesis.destroy();
  });

  it('a throttled DynamoDB request is a real ProvisionedThroughputExceededException', async () => {
    const client = dynamodbClient({ endpoint: dynalite.endpoint, region: 'us-east-1', maxAttempts: 1 });
    const f = new FaultInjector({ seed: 1, ...noFaults, dynamoThrottleRate: 0.5 });
    f.instrumentDynamo(client);
    const errors = new Set<string>();
    for (let i = 0; i < 30; i++) {
      await client
        .send(new GetItemCommand({ TableName: 'chaos-wire', Key: { pk: { S: 'x' } } }))
        .catch((e: Error) => errors.add(e.name));
    }
    client.destroy();
    expect([...errors]).toEqual(['ProvisionedThroughputExceededException']);
    expect(f.counts.dynamoThrottle).toBeGreaterThan(0);
  });

  it('the SDK retries injected throttles and errors; a lost response was applied', async () => {
    const client = dynamodbClient({ endpoint: dynalite.endpoint, region: 'us-east-1', maxAttempts: 3 });
    const f = new FaultInjector({ seed: 1, ...noFaults });
    f.instrumentDynamo(client);
    // Requests 40 (throttle), 80 (error) and 120 (lost) carry the first wire faults.
    let conditionFailures = 0;
    for (let i = 1; i <= 120; i++) {
      const out = await client
        .send(
          new PutItemCommand({
            TableName: 'chaos-wire',
            Item: { pk: { S: `k${i}` } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch((e: Error) => e);
      if (out instanceof Error) {
        expect(out.name).toBe('ConditionalCheckFailedException');
        conditionFailures++;
      }
    }
    client.destroy();
    expect(f.counts).toMatchObject({ dynamoThrottle: 1, dynamoError: 1, dynamoLostResponse: 1 });
    // The lost response's write landed: its SDK retry finds the item already there.
    expect(conditionFailures).toBe(1);
    const item = await ddb.send(new GetItemCommand({ TableName: 'chaos-wire', Key: { pk: { S: 'k120' } } }));
    expect(item.Item).toBeDefined();
  });

  it('throttles only GetRecords on a Kinesis client', async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'chaos-wire', ShardCount: 1 }));
    await waitActive(kinesis, 'chaos-wire');
    const client = kinesisClient({ endpoint: kinesalite.endpoint, region: 'us-east-1', maxAttempts: 1 });
    const f = new FaultInjector({ seed: 1, ...noFaults, getRecordsThrottleRate: 0.5 });
    f.instrumentKinesis(client);
    const it = await client.send(
      new GetShardIteratorCommand({
        StreamName: 'chaos-wire',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const errors: string[] = [];
    for (let i = 0; i < 10; i++) {
      await client
        .send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))
        .catch((e: Error) => errors.push(e.name));
    }
    await client.send(new ListShardsCommand({ StreamName: 'chaos-wire' }));
    client.destroy();
    expect(errors.length).toBe(f.counts.getRecordsThrottle);
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors)).toEqual(new Set(['ProvisionedThroughputExceededException']));
  });
});

async function waitActive(kinesis: KinesisClient, name: string): Promise<void> {
  for (;;) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('resharding', () => {
  it('splits an open shard in the middle and merges two adjacent ones', async () => {
    const kinesis = kinesisClient({ endpoint: kinesalite.endpoint, region: 'us-east-1' });
    await kinesis.send(new CreateStreamCommand({ StreamName: 'chaos-reshard', ShardCount: 1 }));
    await waitActive(kinesis, 'chaos-reshard');
    const split = await splitShard(kinesis, 'chaos-reshard', () => 0);
    expect(split.parents).toEqual(['shardId-000000000000']);
    const children = await openShards(kinesis, 'chaos-reshard');
    expect(children.map((s) => s.ParentShardId)).toEqual(['shardId-000000000000', 'shardId-000000000000']);
    expect(children[1]?.HashKeyRange?.StartingHashKey).toBe((2n ** 127n).toString());
    const merge = await mergeShards(kinesis, 'chaos-reshard', () => 0);
    expect(merge.parents).toEqual(children.map((s) => s.ShardId));
    const merged = await openShards(kinesis, 'chaos-reshard');
    expect(merged).toHaveLength(1);
    expect([merged[0]?.ParentShardId, merged[0]?.AdjacentParentShardId]).toEqual(merge.parents);
    kinesis.destroy();
  });
});
