/**
 * Reads windowed aggregates from DynamoDB: lists a rollup's items over a time range through the
 * `byRollupTime` GSI, merges the partial items of each aggregate (one per shard) with `mergeStates` and
 * presents `finalizeState`.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand as LowLevelQueryCommand,
  type QueryCommandInput as LowLevelQueryInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ResolvedConfig, RollupConfig, WindowSize } from '../common/config.ts';
import { describeValue, UsageError } from '../common/errors.ts';
import { RANGE_INDEX, SHARDS_PK } from '../common/table.ts';
import {
  type AggState,
  countersFromItem,
  decodeDims,
  type FinalMetric,
  finalizeState,
  mergeStates,
  stateFromAttribute,
} from '../processors/index.ts';

export interface ReadAggregatesOptions {
  /** Rollup name (one of `config.rollups`). */
  readonly rollup: string;
  /** Window size; must be one of the rollup's windows. @default every window of the rollup */
  readonly window?: WindowSize;
  /** Window starts at or after this time (epoch ms). @default no lower bound */
  readonly from?: number;
  /** Window starts strictly before this time (epoch ms). @default no upper bound */
  readonly to?: number;
  /** Keep only aggregates whose dims have these values (names as in `by`, without `dims.`). @default {} */
  readonly dims?: Readonly<Record<string, string>>;
}

export interface AggregateRow {
  readonly rollup: string;
  readonly window: WindowSize;
  /** Group-by values by name: `source`, `type`, or the dim name of `dims.<name>`; a missing dim is "". */
  readonly dims: Record<string, string>;
  /** Encoded dims, as in the item key. */
  readonly dimsKey: string;
  /** Window start, ISO-8601 UTC. */
  readonly windowStart: string;
  readonly count: number;
  /** Per metric: count, sum, min, max, avg, and the rollup's quantile stats (`p99`, within 1%). */
  readonly metrics: Record<string, FinalMetric>;
  /** Estimated distinct values per `distinct:<field>` stat (exact below 256, else 1.63% standard error). */
  readonly distinct?: Record<string, number>;
  /** Shard items merged into this row. */
  readonly shards: number;
}

export interface ShardCheckpoint {
  readonly shardId: string;
  readonly aggregated: number;
  readonly quarantined: number;
  readonly late: number;
  readonly records: number;
  readonly reasons: Record<string, number>;
  /** Fixed-width position of the last record processed. */
  readonly wm: string;
  /** ISO-8601, or null when never set. */
  readonly lastArrival: string | null;
  readonly updatedAt: string | null;
}

type AnyDynamoClient = DynamoDBClient | DynamoDBDocumentClient;

function documentClient(client: AnyDynamoClient): DynamoDBDocumentClient {
  return client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client);
}

/** Names of a rollup's group-by keys: `source`, `type`, `site` for `dims.site`. */
export function dimNames(rollup: RollupConfig): string[] {
  return rollup.by.map((b) => (b.startsWith('dims.') ? b.slice('dims.'.length) : b));
}

/** A row's dims: the rollup's dim names zipped with their values (a missing value is ''). */
export function dimsRecord(rollup: RollupConfig, values: readonly string[]): Record<string, string> {
  const dims: Record<string, string> = {};
  dimNames(rollup).forEach((n, i) => {
    dims[n] = values[i] ?? '';
  });
  return dims;
}

export function findRollup(config: ResolvedConfig, name: string): RollupConfig {
  const r = config.rollups.find((x) => x.name === name);
  if (!r) {
    throw new UsageError(
      `rollup must be one of ${config.rollups.map((x) => x.name).join(', ')}; received ${describeValue(name)}`,
    );
  }
  return r;
}

async function queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start !== undefined);
  return items;
}

/** The GSI key condition for one rollup window over a range of window starts. */
function rangeCondition(
  rollup: string,
  window: WindowSize,
  from: number | undefined,
  to: number | undefined,
): Pick<QueryCommandInput, 'IndexName' | 'KeyConditionExpression' | 'ExpressionAttributeValues'> {
  const values: Record<string, unknown> = { ':g': `${rollup}#${window}` };
  let cond = 'gpk = :g';
  // gsk = "<window start ISO>#<dims>#<shard>": every key of a window starting before `to` sorts below toISO.
  if (from !== undefined && to !== undefined) {
    cond += ' AND gsk BETWEEN :a AND :b';
    values[':a'] = new Date(from).toISOString();
    values[':b'] = new Date(to).toISOString();
  } else if (from !== undefined) {
    cond += ' AND gsk >= :a';
    values[':a'] = new Date(from).toISOString();
  } else if (to !== undefined) {
    cond += ' AND gsk < :b';
    values[':b'] = new Date(to).toISOString();
  }
  return { IndexName: RANGE_INDEX, KeyConditionExpression: cond, ExpressionAttributeValues: values };
}

/** Raw partial items of one rollup window over a range (GSI query), before merging. */
async function readItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  rollup: string,
  window: WindowSize,
  from: number | undefined,
  to: number | undefined,
): Promise<Record<string, unknown>[]> {
  return queryAll(doc, { TableName: tableName, ...rangeCondition(rollup, window, from, to) });
}

/**
 * Start (epoch ms) of the latest window of `rollup`/`window` holding data, among windows starting in
 * [from, to); undefined when there is none. One GSI item read, newest first: no item of any window is
 * fetched or merged to find it.
 */
export async function latestWindowStart(
  client: AnyDynamoClient,
  config: ResolvedConfig,
  options: { rollup: string; window: WindowSize; from?: number; to?: number },
): Promise<number | undefined> {
  const rollup = findRollup(config, options.rollup);
  const out = await documentClient(client).send(
    new QueryCommand({
      TableName: config.table.name,
      ...rangeCondition(rollup.name, options.window, options.from, options.to),
      ScanIndexForward: false,
      Limit: 1,
      ProjectionExpression: 'gsk',
    }),
  );
  const gsk = out.Items?.[0]?.gsk;
  return typeof gsk === 'string' ? Date.parse(gsk.slice(0, gsk.indexOf('#'))) : undefined;
}

/** Merges partial items (any order) into rows, sorted by window start then dims. Pure. */
export function mergeItems(rollup: RollupConfig, items: readonly Record<string, unknown>[]): AggregateRow[] {
  const names = dimNames(rollup);
  const groups = new Map<string, { item: Record<string, unknown>; state: AggState; shards: number }>();
  for (const item of items) {
    const pk = String(item.pk);
    const state = stateFromAttribute(item.state as Uint8Array | string);
    const g = groups.get(pk);
    if (g) {
      g.state = mergeStates(g.state, state);
      g.shards += 1;
    } else groups.set(pk, { item, state, shards: 1 });
  }
  const rows: AggregateRow[] = [];
  for (const { item, state, shards } of groups.values()) {
    const dimsKey = String(item.dims ?? '');
    const dims = dimsRecord(rollup, decodeDims(dimsKey, names.length));
    const final = finalizeState(state, rollup.stats);
    rows.push({
      rollup: rollup.name,
      window: String(item.window) as WindowSize,
      dims,
      dimsKey,
      windowStart: new Date(Number(item.windowStart)).toISOString(),
      count: final.count,
      metrics: final.metrics,
      ...(final.distinct === undefined ? {} : { distinct: final.distinct }),
      shards,
    });
  }
  return rows.sort((a, b) =>
    a.windowStart === b.windowStart
      ? a.dimsKey < b.dimsKey
        ? -1
        : a.dimsKey > b.dimsKey
          ? 1
          : 0
      : a.windowStart < b.windowStart
        ? -1
        : 1,
  );
}

/**
 * Reads a rollup's aggregates over a range, one row per (window, dims, window start) with its shard items
 * merged.
 *
 * @example
 * ```ts
 * const rows = await readAggregates(dynamodbClient(), config, { rollup: 'site_telemetry', window: '1m', from: Date.now() - 3_600_000 });
 * ```
 */
export async function readAggregates(
  client: AnyDynamoClient,
  config: ResolvedConfig,
  options: ReadAggregatesOptions,
): Promise<AggregateRow[]> {
  const rollup = findRollup(config, options.rollup);
  if (options.window !== undefined && !rollup.windows.includes(options.window)) {
    throw new UsageError(
      `window must be one of ${rollup.windows.join(', ')} for rollup ${rollup.name}; received ${describeValue(options.window)}`,
    );
  }
  const names = dimNames(rollup);
  for (const k of Object.keys(options.dims ?? {})) {
    if (!names.includes(k)) {
      throw new UsageError(
        `dims must be among ${names.join(', ') || '(none)'} for rollup ${rollup.name}; received ${describeValue(k)}`,
      );
    }
  }
  const doc = documentClient(client);
  const rows: AggregateRow[] = [];
  for (const w of options.window ? [options.window] : rollup.windows) {
    const items = await readItems(doc, config.table.name, rollup.name, w, options.from, options.to);
    rows.push(...mergeItems(rollup, items));
  }
  const want = Object.entries(options.dims ?? {});
  return want.length === 0 ? rows : rows.filter((r) => want.every(([k, v]) => r.dims[k] === v));
}

/** Every item a low-level Query returns, across pages. */
export async function queryAllItems(
  client: DynamoDBClient,
  input: LowLevelQueryInput,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new LowLevelQueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Reads every shard's checkpoint item (through the processor's own codec), sorted by shard id. */
export async function readShardCheckpoints(
  client: DynamoDBClient,
  config: ResolvedConfig,
): Promise<ShardCheckpoint[]> {
  const items = await queryAllItems(client, {
    TableName: config.table.name,
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': { S: SHARDS_PK } },
    ConsistentRead: true,
  });
  const iso = (v: number) => (v > 0 ? new Date(v).toISOString() : null);
  return items
    .map((item): ShardCheckpoint => {
      const c = countersFromItem(item);
      return {
        shardId: c.shardId,
        aggregated: c.aggregated,
        quarantined: c.quarantined,
        late: c.late,
        records: c.records,
        reasons: c.reasons as Record<string, number>,
        wm: c.wm,
        lastArrival: iso(c.lastArrival),
        updatedAt: iso(Number(item.updatedAt?.N ?? 0)),
      };
    })
    .sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
}
