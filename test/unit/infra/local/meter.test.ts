/**
 * The billing meters on real SDK clients against dynalite and kinesalite: units as DynamoDB and Kinesis bill
 * them, computed here by hand from the item-size and payload-unit rules.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbClient } from '../../../../common/aws.ts';
import { meterDynamo, meterKinesis } from '../../../../infra/local/meter.ts';
import { startTestDynamo, type TestDynamo } from '../../../helpers/factories.ts';
import { type LocalKinesis, startKinesalite } from '../../../helpers/kinesalite.ts';

let dynamo: TestDynamo;
let kinesis: LocalKinesis;
beforeAll(async () => {
  dynamo = await startTestDynamo('meter');
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await dynamo.close();
  await kinesis.close();
});

describe('meterDynamo', () => {
  it('bills writes per started KB of the larger of before and after, failed conditions included; reads per 4 KB', async () => {
    const client = dynamodbClient({ region: 'us-east-1', endpoint: dynamo.endpoint, maxAttempts: 1 });
    const usage = meterDynamo(client);
    const key = { pk: { S: 'a' }, sk: { S: 'b' } };
    // Item size: pk(2)+"a"(1) + sk(2)+"b"(1) + v(1)+N bytes of S = 7 + N.
    const item = (n: number) => ({ ...key, v: { S: 'x'.repeat(n) } });
    await client.send(new PutItemCommand({ TableName: 'meter', Item: item(2000) })); // 2,007 B: 2 units
    await client.send(new PutItemCommand({ TableName: 'meter', Item: item(10) })); // before 2,007 B: 2 units
    await expect(
      client.send(
        new PutItemCommand({
          TableName: 'meter',
          Item: item(10),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException); // 17 B: 1 unit, billed though it failed
    expect(usage).toMatchObject({ writeRequests: 3, writeUnits: 5, conditionalFailures: 1 });
    await client.send(new PutItemCommand({ TableName: 'meter', Item: { ...item(5000), sk: { S: 'c' } } }));
    expect(usage.writeUnits).toBe(5 + 5); // 5,007 B: 5 units
    await client.send(new GetItemCommand({ TableName: 'meter', Key: key, ConsistentRead: true })); // 17 B: 1
    await client.send(
      new BatchGetItemCommand({
        RequestItems: {
          meter: { Keys: [key, { pk: { S: 'a' }, sk: { S: 'c' } }], ConsistentRead: false },
        },
      }),
    ); // 17 B: 0.5, 5,007 B: 2 x 0.5
    expect(usage).toMatchObject({ readRequests: 2, readUnits: 1 + 0.5 + 1 });
    client.destroy();
  });
});

describe('meterKinesis', () => {
  it('bills accepted records by 25 KB PUT payload units, and Firehose by 5 KB per record', async () => {
    await kinesis.createStream('meter', 1);
    const client = kinesis.client(3);
    const usage = meterKinesis(client);
    await client.send(
      new PutRecordsCommand({
        StreamName: 'meter',
        Records: [
          { Data: new Uint8Array(300), PartitionKey: 'a' },
          { Data: new Uint8Array(30 * 1024), PartitionKey: 'b' },
        ],
      }),
    );
    expect(usage).toMatchObject({
      records: 2,
      bytes: 300 + 30 * 1024,
      putPayloadUnits: 1 + 2,
      firehoseBilledBytes: 5 * 1024 + 30 * 1024,
      onDemandBilledBytes: 1024 + 30 * 1024,
    });
  });
});
