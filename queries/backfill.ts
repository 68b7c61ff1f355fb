/**
 * Backfill: rebuild a range of aggregates from the archive, so a fixed bug or a new rollup applies to
 * history. `reconcile` passes afterwards.
 *
 * Only CLOSED windows are rebuilt: a window is closed once its end is more than
 * `processing.allowedLatenessSeconds + archive.bufferIntervalSeconds` in the past — no event can still be
 * folded into it (later ones are quarantined as `late`) and Firehose has flushed everything that arrived in
 * time. Open windows in the range are skipped and reported.
 *
 * For each rollup, window size and aggregate key in the range: read the archive events (deduplicated by
 * `eventid`, without those quarantined as `late`/`future_timestamp`: the same SQL as reconcile), fold them
 * with the processor's own core (`foldBatch`), write the full value as ONE item with `sk = "backfill"`
 * (`wm = "backfill"`, otherwise the attributes of a shard item), then delete that key's other items (the
 * shard items). Readers merge every item of a key, so the backfilled aggregate reads correctly. A key whose
 * items exist but whose archive has no events is deleted. Idempotent: a key already holding exactly one
 * backfill item with the archive's value is left untouched, so a second run changes nothing.
 *
 * Not atomic per key (DynamoDB transactions are not used): a crash between the put and the deletes leaves
 * the key double-counted until backfill runs again, which repairs it.
 */
import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type ResolvedConfig, type RollupConfig, WINDOW_MS, type WindowSize } from '../common/config.ts';
import type { ShardlineEvent } from '../common/envelope.ts';
import { describeValue, UsageError } from '../common/errors.ts';
import { RANGE_INDEX } from '../common/table.ts';
import { type AggregatePending, aggregateCodec, stateFromAttribute } from '../processors/adapters/items.ts';
import { foldBatch } from '../processors/core/fold.ts';
import {
  type AggregateKey,
  compileRollup,
  decodeDims,
  parseAggregateKey,
} from '../processors/core/rollup.ts';
import { type AggState, emptyState, finalizeState, mergeStates } from '../processors/core/state.ts';
import { dimsRecord, findRollup, queryAllItems, readShardCheckpoints } from './aggregates.ts';
import { type ArchiveEngine, openDuckDbArchive } from './archive.ts';
import { rollupEventsSql, settledCutoff } from './archive-sql.ts';

/** Sort key (and watermark) of a backfilled aggregate item. */
export const BACKFILL_SK = 'backfill';

export interface BackfillOptions {
  readonly config: ResolvedConfig;
  /** Local cloud state folder holding the archive (`<dataDir>/s3/<bucket>/`), read when `archive` is not given. */
  readonly dataDir?: string;
  /** The engine reading the archive (Athena for a deployed stack). @default DuckDB over `dataDir` */
  readonly archive?: ArchiveEngine;
  /** DynamoDB client (local emulator or AWS). */
  readonly client: DynamoDBClient;
  /** Start of the event-time range, epoch ms; widened down to each window's start. */
  readonly from: number;
  /** End of the event-time range (exclusive), epoch ms; widened up to each window's end, then cut at the last closed window. */
  readonly to: number;
  /** Only these rollups. @default every rollup of the config */
  readonly rollups?: readonly string[];
  /** Compute and report the changes without writing anything. @default false */
  readonly dryRun?: boolean;
  /** Clock, epoch ms (decides which windows are closed). @default Date.now() */
  readonly now?: number;
}

export type BackfillAction = 'rebuilt' | 'created' | 'removed';

/** One aggregate key the backfill wrote or deleted. */
export interface BackfillChange {
  readonly rollup: string;
  readonly window: WindowSize;
  readonly dims: Record<string, string>;
  /** ISO-8601 UTC. */
  readonly windowStart: string;
  /** `created`: no item before; `rebuilt`: items replaced by one backfill item; `removed`: no archive events. */
  readonly action: BackfillAction;
  /** Whether the value readers see changed (a drift fixed); false when only the item layout changed. */
  readonly drift: boolean;
  /** Count readers saw before (null: no items). */
  readonly countBefore: number | null;
  /** Count from the archive (null: removed). */
  readonly countAfter: number | null;
  /** Items deleted for this key. */
  readonly itemsDeleted: number;
}

/** What happened to one (rollup, window size). */
export interface BackfillSegment {
  readonly rollup: string;
  readonly window: WindowSize;
  /** Window starts rebuilt: `[from, to)`, ISO; null when no closed window is in the range. */
  readonly rebuilt: { readonly from: string; readonly to: string } | null;
  /** Open windows of the range that were skipped: `[from, to)`, ISO; null when none. */
  readonly skippedOpen: { readonly from: string; readonly to: string } | null;
  readonly eventsRead: number;
  readonly keys: number;
}

export interface BackfillReport {
  readonly from: string;
  readonly to: string;
  readonly dryRun: boolean;
  /** Windows ending before this instant are closed (now − allowed lateness − Firehose buffer interval). */
  readonly closedBefore: string;
  readonly segments: BackfillSegment[];
  /** Keys examined (in the archive or in DynamoDB). */
  readonly keysChecked: number;
  readonly keysUnchanged: number;
  readonly keysWritten: number;
  readonly keysRemoved: number;
  readonly itemsDeleted: number;
  /** Keys whose value changed. */
  readonly driftsFixed: number;
  readonly eventsRead: number;
  readonly bytesScanned: number;
  /** Every key written or removed (unchanged keys are not listed). */
  readonly changes: BackfillChange[];
  /** Things an operator should know (e.g. shards that may still be processing the range). */
  readonly warnings: string[];
}

/** The instant before which windows are closed: `now − allowedLateness − bufferInterval`. Pure. */
export function closedCutoff(config: ResolvedConfig, now: number): number {
  return settledCutoff(config, now);
}

/** The closed window starts `[lo, hi)` of a range and the open part skipped. Pure. */
export function closedRange(
  window: WindowSize,
  from: number,
  to: number,
  cutoff: number,
): { lo: number; hi: number; openFrom: number | null; openTo: number } {
  const w = WINDOW_MS[window];
  const lo = Math.floor(from / w) * w;
  const end = Math.ceil(to / w) * w;
  // Window [s, s + w) is closed when s + w < cutoff.
  const lastClosedEnd = Math.floor((cutoff - 1) / w) * w;
  const hi = Math.max(lo, Math.min(end, lastClosedEnd));
  return { lo, hi, openFrom: hi < end ? hi : null, openTo: end };
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Finalized value as readers see it, for comparing (exact: sums are correctly rounded). */
const readValue = (s: AggState) => JSON.stringify(finalizeState(s));

function asRecord(v: unknown): Record<string, unknown> {
  if (typeof v === 'string') return asRecord(JSON.parse(v)); // CAST(map AS JSON)
  if (Array.isArray(v)) return {}; // DuckDB renders an empty MAP as []
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** Turns an archive row (from {@link rollupEventsSql}) into an event. Pure. */
export function eventFromRow(r: Record<string, unknown>): ShardlineEvent {
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(asRecord(r.metrics))) if (typeof v === 'number') metrics[k] = v;
  const dims: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(r.dims)))
    if (v !== null && v !== undefined) dims[k] = String(v);
  return {
    v: 1,
    eventId: String(r.eventid),
    source: String(r.source ?? ''),
    type: String(r.type ?? ''),
    ts: Number(r.ts_ms),
    metrics,
    dims,
  };
}

/** The partition keys of a rollup window's items with window start in `[lo, hi)` (GSI). */
async function existingKeys(
  client: DynamoDBClient,
  config: ResolvedConfig,
  rollup: string,
  window: WindowSize,
  lo: number,
  hi: number,
): Promise<Set<string>> {
  const items = await queryAllItems(client, {
    TableName: config.table.name,
    IndexName: RANGE_INDEX,
    KeyConditionExpression: 'gpk = :g AND gsk BETWEEN :a AND :b',
    ExpressionAttributeValues: {
      ':g': { S: `${rollup}#${window}` },
      ':a': { S: iso(lo) },
      ':b': { S: iso(hi) },
    },
    ProjectionExpression: 'pk',
  });
  return new Set(items.map((i) => i.pk!.S!));
}

function dimsOf(rollup: RollupConfig, key: AggregateKey): Record<string, string> {
  return dimsRecord(rollup, decodeDims(key.dims, rollup.by.length));
}

/**
 * Rebuilds the closed aggregates of a range from the archive (DuckDB locally, Athena for a stack) and reports what changed.
 *
 * @example
 * ```ts
 * const report = await backfill({ config, dataDir: '.shardline', client: dynamodbClient(), from, to });
 * console.log(report.keysWritten, report.driftsFixed, report.segments);
 * ```
 */
export async function backfill(options: BackfillOptions): Promise<BackfillReport> {
  const { config, client, from, to } = options;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new UsageError(
      `from must be before to; received from=${describeValue(from)} to=${describeValue(to)}`,
    );
  }
  const rollups = (options.rollups ?? config.rollups.map((r) => r.name)).map((n) => findRollup(config, n));
  const now = options.now ?? Date.now();
  const cutoff = closedCutoff(config, now);
  const dryRun = options.dryRun ?? false;
  const codec = aggregateCodec(config.table.ttlDays, () => now);

  const segments: BackfillSegment[] = [];
  const changes: BackfillChange[] = [];
  const warnings: string[] = [];
  let keysChecked = 0;
  let keysUnchanged = 0;
  let eventsRead = 0;
  let bytesScanned = 0;
  let maxHi = Number.NEGATIVE_INFINITY;

  if (!options.archive && options.dataDir === undefined) {
    throw new UsageError('backfill needs an archive engine or the dataDir of the local archive');
  }
  const engine = options.archive ?? (await openDuckDbArchive(options.dataDir!, config));
  try {
    for (const rollup of rollups) {
      for (const window of rollup.windows) {
        const { lo, hi, openFrom, openTo } = closedRange(window, from, to, cutoff);
        const skippedOpen = openFrom === null ? null : { from: iso(openFrom), to: iso(openTo) };
        if (lo >= hi) {
          segments.push({ rollup: rollup.name, window, rebuilt: null, skippedOpen, eventsRead: 0, keys: 0 });
          continue;
        }
        maxHi = Math.max(maxHi, hi);
        const sql = `${rollupEventsSql(config, rollup, lo, hi, [
          'eventid',
          'source',
          'type',
          // Athena returns maps as display text: read them as JSON, in both engines.
          'CAST(round(to_unixtime(ts) * 1000) AS BIGINT) AS ts_ms',
          'CAST(metrics AS JSON) AS metrics',
          'CAST(dims AS JSON) AS dims',
        ])}\nORDER BY ts_ms, eventid`;
        const result = await engine.run(sql);
        bytesScanned += result.bytesScanned;
        eventsRead += result.rows.length;
        const inputs = result.rows.map((r, i) => ({
          position: String(i + 1).padStart(129, '0'),
          event: eventFromRow(r),
        }));
        const deltas = foldBatch([compileRollup({ ...rollup, windows: [window] })], inputs);
        const existing = await existingKeys(client, config, rollup.name, window, lo, hi);
        const keys = [...new Set([...deltas.keys(), ...existing])].sort();
        for (const pk of keys) {
          const delta = deltas.get(pk);
          const items = await queryAllItems(client, {
            TableName: config.table.name,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': { S: pk } },
            ConsistentRead: true,
          });
          const before =
            items.length === 0
              ? undefined
              : items.map((i) => stateFromAttribute(i.state)).reduce(mergeStates, emptyState());
          const key = delta?.key ?? parseAggregateKey(pk);
          const base = {
            rollup: rollup.name,
            window,
            dims: dimsOf(rollup, key),
            windowStart: iso(key.windowStart),
            countBefore: before?.count ?? null,
          };
          if (delta === undefined) {
            if (!dryRun) for (const i of items) await deleteItem(client, config, pk, i.sk!.S!);
            changes.push({
              ...base,
              action: 'removed',
              drift: true,
              countAfter: null,
              itemsDeleted: items.length,
            });
            continue;
          }
          const alreadyDone =
            items.length === 1 &&
            items[0]!.sk!.S === BACKFILL_SK &&
            readValue(before!) === readValue(delta.state);
          if (alreadyDone) {
            keysUnchanged++;
            continue;
          }
          const stale = items.filter((i) => i.sk!.S !== BACKFILL_SK);
          if (!dryRun) {
            const pending: AggregatePending = {
              pk,
              sk: BACKFILL_SK,
              lo: BACKFILL_SK,
              key: delta.key,
              after: () => undefined,
            };
            await client.send(
              new PutItemCommand({
                TableName: config.table.name,
                Item: codec.toItem(pending, delta.state, BACKFILL_SK),
              }),
            );
            for (const i of stale) await deleteItem(client, config, pk, i.sk!.S!);
          }
          changes.push({
            ...base,
            action: items.length === 0 ? 'created' : 'rebuilt',
            drift: before === undefined || readValue(before) !== readValue(delta.state),
            countAfter: delta.state.count,
            itemsDeleted: stale.length,
          });
        }
        keysChecked += keys.length;
        segments.push({
          rollup: rollup.name,
          window,
          rebuilt: { from: iso(lo), to: iso(hi) },
          skippedOpen,
          eventsRead: result.rows.length,
          keys: keys.length,
        });
      }
    }
  } finally {
    if (!options.archive) await engine.close();
  }

  for (const s of segments) {
    if (s.skippedOpen) {
      warnings.push(
        `${s.rollup} ${s.window}: skipped open windows ${s.skippedOpen.from} .. ${s.skippedOpen.to} (closed only before ${iso(cutoff)})`,
      );
    }
  }
  if (Number.isFinite(maxHi)) {
    // A record the processor has not yet folded would later land in a shard item beside the backfill item.
    const needed = maxHi + config.processing.allowedLatenessSeconds * 1000;
    for (const cp of await readShardCheckpoints(client, config)) {
      const last = cp.lastArrival === null ? 0 : Date.parse(cp.lastArrival);
      if (last < needed) {
        warnings.push(
          `${cp.shardId} has processed records only up to arrival ${cp.lastArrival ?? 'never'}; if it still has unprocessed records for these windows (arrived before ${iso(needed)}), they will be counted again: run reconcile when it has caught up`,
        );
      }
    }
  }

  const written = changes.filter((c) => c.action !== 'removed');
  return {
    from: iso(from),
    to: iso(to),
    dryRun,
    closedBefore: iso(cutoff),
    segments,
    keysChecked,
    keysUnchanged,
    keysWritten: written.length,
    keysRemoved: changes.length - written.length,
    itemsDeleted: changes.reduce((n, c) => n + c.itemsDeleted, 0),
    driftsFixed: changes.filter((c) => c.drift).length,
    eventsRead,
    bytesScanned,
    changes,
    warnings,
  };
}

async function deleteItem(client: DynamoDBClient, config: ResolvedConfig, pk: string, sk: string) {
  await client.send(
    new DeleteItemCommand({ TableName: config.table.name, Key: { pk: { S: pk }, sk: { S: sk } } }),
  );
}
