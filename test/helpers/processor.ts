/**
 * Wires the real processor to an in-process dynalite, with a recording quarantine sink (our own port, not an
 * AWS API: the Firehose side is exercised end to end against the local Firehose), and reads back what it
 * wrote through the query layer. Expected values come from `reference.ts`, not from the processor.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteItemCommand, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand as DocScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { ResolvedConfig } from '../../common/config.ts';
import { encodeEnvelope, type ShardlineEvent } from '../../common/envelope.ts';
import type { QuarantineRecord } from '../../common/quarantine.ts';
import { SHARDS_PK } from '../../common/table.ts';
import { countersFromItem, createProcessor, type Processor } from '../../processors/index.ts';
import { findRollup, mergeItems } from '../../queries/aggregates.ts';
import { kinesisRecord, seq } from './factories.ts';
import type { ExpectedAggregate } from './reference.ts';

export { expectedAggregates } from './reference.ts';

export interface RecordingSink {
  records: QuarantineRecord[];
  send(records: readonly QuarantineRecord[]): Promise<{ failed: QuarantineRecord[]; requests: number }>;
}

export function recordingSink(): RecordingSink {
  const sink: RecordingSink = {
    records: [],
    async send(records) {
      sink.records.push(...records);
      return { failed: [], requests: 1 };
    },
  };
  return sink;
}

export function testProcessor(
  client: DynamoDBClient,
  config: ResolvedConfig,
  sink: Pick<RecordingSink, 'send'> = recordingSink(),
  now: () => number = Date.now,
): Processor {
  return createProcessor({ config, clients: { dynamodb: client }, quarantine: sink, now });
}

/** Every item of the table, unmarshalled. */
async function scanItems(client: DynamoDBClient, tableName: string): Promise<Record<string, unknown>[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new DocScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

async function scanAll(client: DynamoDBClient, tableName: string) {
  const items = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const res = await client.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Every aggregate in the table, shard items merged and finalized by the query layer (what users read),
 * keyed by partition key, in the shape of {@link ExpectedAggregate}.
 */
export async function readMergedAggregates(
  client: DynamoDBClient,
  config: ResolvedConfig,
): Promise<Record<string, ExpectedAggregate>> {
  const byRollup = new Map<string, Record<string, unknown>[]>();
  for (const item of await scanItems(client, config.table.name)) {
    const pk = String(item.pk);
    if (pk === SHARDS_PK) continue;
    const rollup = pk.slice(0, pk.indexOf('#'));
    const list = byRollup.get(rollup) ?? [];
    list.push(item);
    byRollup.set(rollup, list);
  }
  const out: [string, ExpectedAggregate][] = [];
  for (const [name, items] of byRollup) {
    for (const row of mergeItems(findRollup(config, name), items)) {
      out.push([
        `${row.rollup}#${row.window}#${row.dimsKey}#${row.windowStart}`,
        {
          count: row.count,
          metrics: row.metrics as unknown as ExpectedAggregate['metrics'],
          ...(row.distinct === undefined ? {} : { distinct: row.distinct }),
        },
      ]);
    }
  }
  return Object.fromEntries(out.sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function readCheckpoints(client: DynamoDBClient, tableName: string) {
  return (await scanAll(client, tableName)).filter((i) => i.pk!.S === SHARDS_PK).map(countersFromItem);
}

/**
 * Writes `events` to the table as shard `shardId`'s processor does, by running the real processor on them
 * (each record arriving at its event's time, so none is late), with `rollups` only when given. Only the
 * aggregate items stay: the shard checkpoint the processor also writes is removed unless it existed. Returns the
 * partition keys of the aggregate items it wrote, sorted (so by window start within a rollup and dims).
 */
export async function putFoldedItems(
  client: DynamoDBClient,
  config: ResolvedConfig,
  shardId: string,
  events: readonly ShardlineEvent[],
  options: { rollups?: readonly string[]; now?: number } = {},
): Promise<string[]> {
  const only = options.rollups;
  const scoped: ResolvedConfig =
    only === undefined ? config : { ...config, rollups: config.rollups.filter((r) => only.includes(r.name)) };
  const before = new Set(await aggregateKeysOf(client, config.table.name, shardId));
  const checkpointKey = { pk: { S: SHARDS_PK }, sk: { S: shardId } };
  const hadCheckpoint =
    (await client.send(new GetItemCommand({ TableName: config.table.name, Key: checkpointKey }))).Item !==
    undefined;
  const event: KinesisStreamEvent = {
    Records: events.map((e, i) =>
      kinesisRecord({
        data: encodeEnvelope(e),
        sequenceNumber: seq(i + 1),
        partitionKey: e.source,
        arrivalMs: e.ts,
        shardId,
      }),
    ),
  };
  const sink = recordingSink();
  const now = options.now ?? Date.now();
  const { report } = await testProcessor(client, scoped, sink, () => now).processBatch(event);
  if (report.failedFrom !== null || sink.records.length > 0) {
    throw new Error(`putFoldedItems: the processor did not aggregate every event: ${JSON.stringify(report)}`);
  }
  if (!hadCheckpoint) {
    await client.send(new DeleteItemCommand({ TableName: config.table.name, Key: checkpointKey }));
  }
  return (await aggregateKeysOf(client, config.table.name, shardId)).filter((pk) => !before.has(pk)).sort();
}

async function aggregateKeysOf(
  client: DynamoDBClient,
  tableName: string,
  shardId: string,
): Promise<string[]> {
  return (await scanItems(client, tableName))
    .filter((i) => i.pk !== SHARDS_PK && i.sk === shardId)
    .map((i) => String(i.pk));
}
