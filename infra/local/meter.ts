/**
 * Billing meters on real SDK clients (middleware, so every request the code makes is seen, retries
 * included): what DynamoDB, Kinesis and Firehose would bill for the requests a local run sends, by the
 * rules in `infra/aws/billing.ts`.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { firehoseBilledBytes, itemSize, KB, putPayloadUnits, readUnits, writeUnits } from '../aws/billing.ts';

type Item = Record<string, AttributeValue>;

/** DynamoDB usage as billed. */
export interface DynamoUsage {
  writeRequests: number;
  writeUnits: number;
  /** Writes whose condition failed (billed like any write). */
  conditionalFailures: number;
  readRequests: number;
  readUnits: number;
  /** Largest item written, bytes. */
  maxItemBytes: number;
  /** Sum of the sizes of items written, bytes (for the mean). */
  writtenBytes: number;
  /** Write units by what was written: `<rollup>#<window>` for aggregates, else the partition key. */
  writeUnitsBy: Record<string, number>;
}

export function emptyDynamoUsage(): DynamoUsage {
  return {
    writeRequests: 0,
    writeUnits: 0,
    conditionalFailures: 0,
    readRequests: 0,
    readUnits: 0,
    maxItemBytes: 0,
    writtenBytes: 0,
    writeUnitsBy: {},
  };
}

/** What an item is, for {@link DynamoUsage.writeUnitsBy}: `<rollup>#<window>` of an aggregate key. */
function kindOf(item: Item | undefined): string {
  const pk = item?.pk?.S ?? '';
  const parts = pk.split('#');
  return parts.length === 4 ? `${parts[0]}#${parts[1]}` : pk;
}

const keyOf = (table: string, item: Item | undefined) =>
  `${table}\u0000${item?.pk?.S ?? ''}\u0000${item?.sk?.S ?? ''}`;

/**
 * Meters a DynamoDB client: PutItem and DeleteItem by the larger of the item before (as this client last
 * wrote or read it) and after; GetItem, BatchGetItem (each item by itself), Query and Scan (the page's
 * total) per 4 KB. Returns the live counters.
 */
export function meterDynamo(client: DynamoDBClient, usage: DynamoUsage = emptyDynamoUsage()): DynamoUsage {
  const sizes = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? '';
      const input = args.input as Record<string, unknown>;
      if (name === 'PutItemCommand' || name === 'DeleteItemCommand') {
        const table = String(input.TableName);
        const item = (input.Item ?? input.Key) as Item;
        const key = keyOf(table, item);
        const after = name === 'PutItemCommand' ? itemSize(item) : 0;
        const units = writeUnits(after, sizes.get(key) ?? 0);
        usage.writeRequests++;
        usage.writeUnits += units;
        const kind = kindOf(item);
        usage.writeUnitsBy[kind] = (usage.writeUnitsBy[kind] ?? 0) + units;
        try {
          const out = await next(args);
          if (name === 'PutItemCommand') {
            sizes.set(key, after);
            usage.writtenBytes += after;
            usage.maxItemBytes = Math.max(usage.maxItemBytes, after);
          } else sizes.delete(key);
          return out;
        } catch (err) {
          if ((err as Error).name === 'ConditionalCheckFailedException') usage.conditionalFailures++;
          throw err;
        }
      }
      const out = await next(args);
      const output = out.output as unknown as Record<string, unknown>;
      if (name === 'GetItemCommand') {
        const item = output.Item as Item | undefined;
        const bytes = item ? itemSize(item) : 0;
        if (item) sizes.set(keyOf(String(input.TableName), item), bytes);
        usage.readRequests++;
        usage.readUnits += readUnits(bytes, input.ConsistentRead === true);
      } else if (name === 'BatchGetItemCommand') {
        usage.readRequests++;
        const req = input.RequestItems as Record<string, { ConsistentRead?: boolean }>;
        const res = (output.Responses ?? {}) as Record<string, Item[]>;
        for (const [table, items] of Object.entries(res)) {
          for (const item of items) {
            const bytes = itemSize(item);
            sizes.set(keyOf(table, item), bytes);
            usage.readUnits += readUnits(bytes, req[table]?.ConsistentRead === true);
          }
        }
      } else if (name === 'QueryCommand' || name === 'ScanCommand') {
        usage.readRequests++;
        const items = (output.Items ?? []) as Item[];
        const bytes = items.reduce((n, i) => n + itemSize(i), 0);
        usage.readUnits += readUnits(bytes, input.ConsistentRead === true);
      }
      return out;
    },
    { step: 'initialize', name: 'shardlineBillingMeter' },
  );
  return usage;
}

/** Kinesis PutRecord(s) usage as billed, plus what Firehose bills to read those records. */
export interface KinesisUsage {
  /** Kinesis records accepted (a KPL aggregate is one). */
  records: number;
  bytes: number;
  putPayloadUnits: number;
  /** Firehose ingestion billed bytes for those records (5 KB rounding per record). */
  firehoseBilledBytes: number;
  /** Kinesis on-demand ingest billed bytes (1 KB rounding per record). */
  onDemandBilledBytes: number;
  requests: number;
}

export function emptyKinesisUsage(): KinesisUsage {
  return {
    records: 0,
    bytes: 0,
    putPayloadUnits: 0,
    firehoseBilledBytes: 0,
    onDemandBilledBytes: 0,
    requests: 0,
  };
}

/**
 * Meters a Kinesis client's PutRecords/PutRecord: each accepted record's data bytes (failed entries of a
 * PutRecords response are not billed).
 */
export function meterKinesis(client: KinesisClient, usage: KinesisUsage = emptyKinesisUsage()): KinesisUsage {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? '';
      const out = await next(args);
      const input = args.input as Record<string, unknown>;
      const count = (data: Uint8Array) => {
        usage.records++;
        usage.bytes += data.length;
        usage.putPayloadUnits += putPayloadUnits(data.length);
        usage.firehoseBilledBytes += firehoseBilledBytes(data.length);
        usage.onDemandBilledBytes += Math.max(1, Math.ceil(data.length / KB)) * KB;
      };
      if (name === 'PutRecordsCommand') {
        usage.requests++;
        const entries = input.Records as { Data: Uint8Array }[];
        const results = ((out.output as { Records?: { ErrorCode?: string }[] }).Records ?? []) as {
          ErrorCode?: string;
        }[];
        entries.forEach((e, i) => {
          if (results[i]?.ErrorCode === undefined) count(e.Data);
        });
      } else if (name === 'PutRecordCommand') {
        usage.requests++;
        count(input.Data as Uint8Array);
      }
      return out;
    },
    { step: 'initialize', name: 'shardlineBillingMeter' },
  );
  return usage;
}
