/**
 * Builders for tests: envelopes, Lambda Kinesis events exactly as the event source mapping shapes them,
 * and an in-process dynalite with the aggregates table.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { dynamodbClient } from '../../common/aws.ts';
import { type EnvelopeInput, encodeEnvelope } from '../../common/envelope.ts';
import { ensureTable } from '../../infra/local/cloud.ts';
import { startDynamo } from '../../infra/local/emulators.ts';

export const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);

let counter = 0;
export function makeEvent(overrides: Partial<EnvelopeInput> = {}): EnvelopeInput {
  counter++;
  return {
    v: 1,
    eventId: `evt-${counter.toString().padStart(8, '0')}`,
    source: 'device-0001',
    type: 'telemetry',
    ts: new Date(T0).toISOString(),
    metrics: { temperature: 21.5 },
    dims: { site: 'berlin' },
    ...overrides,
  };
}

export interface RawRecord {
  data: Buffer | string;
  sequenceNumber: string;
  partitionKey?: string;
  arrivalMs?: number;
  shardId?: string;
}

/** A record as Lambda delivers it to a function with a Kinesis event source (the `KinesisStreamRecord` shape). */
export function kinesisRecord(r: RawRecord): KinesisStreamRecord {
  const shardId = r.shardId ?? 'shardId-000000000000';
  const data = typeof r.data === 'string' ? Buffer.from(r.data) : r.data;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.partitionKey ?? 'pk',
      sequenceNumber: r.sequenceNumber,
      data: data.toString('base64'),
      approximateArrivalTimestamp: (r.arrivalMs ?? T0 + 1000) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${r.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/shardline-processor',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-events',
  };
}

/** Sequence numbers like Kinesis's: 56 digits, increasing with `i`. */
export function seq(i: number): string {
  return `49590338271490256608559692538361571095921575989136${String(i).padStart(6, '0')}`;
}

/** A Lambda event of envelopes with consecutive sequence numbers starting at `from`. */
export function eventOf(
  envelopes: readonly (EnvelopeInput | Buffer | string)[],
  from = 1,
  shardId?: string,
): KinesisStreamEvent {
  return {
    Records: envelopes.map((e, i) =>
      kinesisRecord({
        data: typeof e === 'string' || Buffer.isBuffer(e) ? e : encodeEnvelope(e),
        sequenceNumber: seq(from + i),
        partitionKey: typeof e === 'object' && !Buffer.isBuffer(e) ? e.source : 'pk',
        ...(shardId ? { shardId } : {}),
      }),
    ),
  };
}

export interface TestDynamo {
  client: DynamoDBClient;
  endpoint: string;
  tableName: string;
  close(): Promise<void>;
}

/** An in-process dynalite with the aggregates table created. */
export async function startTestDynamo(tableName = 'shardline-aggregates'): Promise<TestDynamo> {
  const dynamo = await startDynamo();
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const client = dynamodbClient({ region: 'us-east-1', maxAttempts: 2, endpoint: dynamo.endpoint });
  await ensureTable(client, tableName);
  return {
    client,
    endpoint: dynamo.endpoint,
    tableName,
    async close() {
      client.destroy();
      await dynamo.close();
    },
  };
}
