/**
 * Wires the real processor to an in-process dynalite, with a recording quarantine sink (our own port, not an
 * AWS API: the Firehose side is exercised end to end against the local Firehose).
 */
import { type DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { ResolvedConfig } from '../../common/config.ts';
import type { ShardlineEvent } from '../../common/envelope.ts';
import type { QuarantineRecord } from '../../common/quarantine.ts';
import { SHARDS_PK } from '../../common/table.ts';
import {
  aggregateCodec,
  aggregatePending,
  countersFromItem,
  stateFromAttribute,
} from '../../processors/adapters/items.ts';
import { type FoldInput, foldBatch, foldEvent } from '../../processors/core/fold.ts';
import { toPosition } from '../../processors/core/position.ts';
import {
  aggregateKey,
  type CompiledRollup,
  compileRollups,
  encodeDims,
  parseAggregateKey,
  windowStart,
} from '../../processors/core/rollup.ts';
import {
  type AggState,
  emptyState,
  type FinalState,
  finalizeState,
  mergeStates,
} from '../../processors/core/state.ts';
import { createProcessor, type Processor } from '../../processors/processor.ts';

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

async function scanAll(client: DynamoDBClient, tableName: string) {
  const items = [];
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const res = await client.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Stats of the rollup of `pk` (for the quantiles finalizeState reports), or none without a config. */
function statsOf(config: ResolvedConfig | undefined, pk: string) {
  if (config === undefined) return [];
  const name = parseAggregateKey(pk).rollup;
  return config.rollups.find((r) => r.name === name)?.stats ?? [];
}

/**
 * Every aggregate in the table, shard items merged, finalized, keyed by pk. With `config`, quantile stats
 * are reported too (compare with `expectedAggregates(config, inputs, true)`).
 */
export async function readMergedAggregates(
  client: DynamoDBClient,
  tableName: string,
  config?: ResolvedConfig,
): Promise<Record<string, FinalState>> {
  const merged = new Map<string, AggState>();
  for (const item of await scanAll(client, tableName)) {
    const pk = item.pk!.S!;
    if (pk === SHARDS_PK) continue;
    merged.set(pk, mergeStates(merged.get(pk) ?? emptyState(), stateFromAttribute(item.state)));
  }
  return Object.fromEntries(
    [...merged]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, finalizeState(v, statsOf(config, k))]),
  );
}

export async function readCheckpoints(client: DynamoDBClient, tableName: string) {
  return (await scanAll(client, tableName)).filter((i) => i.pk!.S === SHARDS_PK).map(countersFromItem);
}

/**
 * The reference fold: each event into each matching rollup and window on its own, keyed by `aggregateKey`
 * built per event, with no batching, grouping or window derivation (what `foldBatch` must equal).
 */
export function perEventFold(
  rollups: readonly CompiledRollup[],
  inputs: readonly FoldInput[],
): Map<string, { rollup: CompiledRollup; state: AggState; members: number[] }> {
  const out = new Map<string, { rollup: CompiledRollup; state: AggState; members: number[] }>();
  inputs.forEach(({ event }, i) => {
    for (const rollup of rollups) {
      if (!rollup.matches(event)) continue;
      for (const w of rollup.windows) {
        const pk = aggregateKey({
          rollup: rollup.name,
          window: w.size,
          dims: encodeDims(rollup.dimValues(event)),
          windowStart: windowStart(event.ts, w.ms),
        });
        let e = out.get(pk);
        if (e === undefined) {
          e = { rollup, state: emptyState(), members: [] };
          out.set(pk, e);
        }
        foldEvent(e.state, rollup, event);
        e.members.push(i);
      }
    }
  });
  return out;
}

/** The independent, fault-free fold of a list of events, finalized and keyed by pk (quantiles on request). */
export function expectedAggregates(
  config: ResolvedConfig,
  inputs: readonly FoldInput[],
  withQuantiles = false,
): Record<string, FinalState> {
  const folded = perEventFold(compileRollups(config.rollups), inputs);
  return Object.fromEntries(
    [...folded]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, e]) => [k, finalizeState(e.state, withQuantiles ? e.rollup.config.stats : [])]),
  );
}

/**
 * Writes `events` to the table as shard `shardId`'s processor would (one item per touched aggregate, the
 * real item codec), bypassing the stream. Returns the partition keys written.
 */
export async function putFoldedItems(
  client: DynamoDBClient,
  config: ResolvedConfig,
  shardId: string,
  events: readonly ShardlineEvent[],
  options: { rollups?: readonly string[]; now?: number } = {},
): Promise<string[]> {
  const rollups = compileRollups(
    options.rollups ? config.rollups.filter((r) => options.rollups!.includes(r.name)) : config.rollups,
  );
  const inputs = events.map((event, i) => ({ position: toPosition(String(i + 1)), event }));
  const codec = aggregateCodec(config.table.ttlDays, () => options.now ?? Date.now());
  const pks: string[] = [];
  for (const delta of foldBatch(rollups, inputs).values()) {
    const item = codec.toItem(aggregatePending(delta, shardId, inputs), delta.state, delta.hi);
    await client.send(new PutItemCommand({ TableName: config.table.name, Item: item }));
    pks.push(delta.pk);
  }
  return pks;
}
