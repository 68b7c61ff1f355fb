/**
 * The processor: one Kinesis micro-batch in, exactly-once aggregate writes out, and a report of what it did.
 *
 * decode + validate (quarantine the bad, with a reason) → fold (pure core) → fenced writes per item →
 * shard checkpoint. Transient failures are reported as `batchItemFailures` from the lowest affected
 * sequence number; the watermark fence makes the replay harmless. Bad data never throws.
 *
 * Dependencies are values: the config and the SDK clients are handed to {@link createProcessor}. The Lambda
 * entry module (`handler.ts`) builds them from its environment at cold start; the local cloud, the chaos
 * run, the benchmarks and the tests build them from their own.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { ResolvedConfig } from '../common/config.ts';
import { ConfigError, ServiceError } from '../common/errors.ts';
import { MAX_QUARANTINE_DATA_BYTES, type QuarantineRecord } from '../common/quarantine.ts';
import { type DecodeOutcome, decodeRecords } from './adapters/decode.ts';
import {
  type AggregatePending,
  aggregateCodec,
  aggregatePending,
  type CounterEntry,
  checkpointCodec,
  checkpointPending,
  type ShardCounters,
} from './adapters/items.ts';
import { QuarantineSink } from './adapters/quarantine.ts';
import { FencedStore } from './adapters/store.ts';
import type { Carry } from './core/carry.ts';
import { type FoldInput, foldBatch } from './core/fold.ts';
import { type CompiledRollup, compileRollups } from './core/rollup.ts';
import type { AggState } from './core/state.ts';
import { advanceCarry, splitDeltas, tumblingOf } from './tumbling.ts';

/** The SDK clients the processor talks through. */
export interface ProcessorClients {
  /** Holds the aggregate items and the shard checkpoints. */
  readonly dynamodb: DynamoDBClient;
  /** Delivers quarantined records. Not needed when {@link ProcessorOptions.quarantine} is given. */
  readonly firehose?: FirehoseClient;
}

/** Where quarantined records go: the Firehose sink, or a recording one in tests. */
export type QuarantinePort = Pick<QuarantineSink, 'send'>;

export interface ProcessorOptions {
  readonly config: ResolvedConfig;
  readonly clients: ProcessorClients;
  /** The aggregates table. @default `config.table.name` */
  readonly tableName?: string;
  /** The quarantine delivery stream. @default `config.quarantine.deliveryStreamName` */
  readonly quarantineStreamName?: string;
  /** Replaces the Firehose quarantine sink. @default a `QuarantineSink` on `clients.firehose` */
  readonly quarantine?: QuarantinePort;
  /** Clock for item TTLs and quarantine timestamps. @default Date.now */
  readonly now?: () => number;
  /** Structured log lines. @default none */
  readonly log?: (level: 'debug' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

interface ProcessorDeps {
  config: ResolvedConfig;
  aggregates: FencedStore<AggState>;
  checkpoints: FencedStore<ShardCounters>;
  quarantine: QuarantinePort;
  now: () => number;
  log: NonNullable<ProcessorOptions['log']>;
}

/**
 * The processor's two fenced stores on one DynamoDB client and table (aggregate items and shard
 * checkpoints live side by side): how the Lambda, the chaos run, the benchmarks and the tests all build them.
 */
function processorStores(
  client: DynamoDBClient,
  tableName: string,
  ttlDays: ResolvedConfig['table']['ttlDays'],
  now?: () => number,
): { aggregates: FencedStore<AggState>; checkpoints: FencedStore<ShardCounters> } {
  return {
    aggregates: new FencedStore({ client, tableName }, aggregateCodec(ttlDays, now)),
    checkpoints: new FencedStore({ client, tableName }, checkpointCodec(now)),
  };
}

/** What one invocation did, for logs, metrics, tests and benchmarks. */
export interface BatchReport {
  records: number;
  userRecords: number;
  aggregated: number;
  quarantined: number;
  itemsWritten: number;
  itemsSkipped: number;
  itemsFailed: number;
  dynamoRequests: { reads: number; writes: number };
  /** Sequence number the batch must be retried from, if any. */
  failedFrom: string | null;
  /** Items carried in the tumbling-window state after the batch (0 without a tumbling window). */
  itemsCarried: number;
  /** Carried items written because the window closed (or the state grew too large). */
  itemsFlushed: number;
  /** Bytes of the tumbling-window state returned (0 without a tumbling window). */
  stateBytes: number;
}

/**
 * Lambda's response: the batch item failures, and with a tumbling window the state the next invocation of
 * the window gets back (Lambda counts a response without `state` as a failed invocation).
 */
export type BatchResponse = KinesisStreamBatchResponse & { state?: Carry };

/** One batch's outcome: the response Lambda reads, and what the batch did. */
export interface BatchResult {
  response: BatchResponse;
  report: BatchReport;
}

/** The processor: stateless between batches, so one instance may serve every shard concurrently. */
export interface Processor {
  processBatch(event: KinesisStreamEvent): Promise<BatchResult>;
}

/** Builds the processor from its config and clients; throws {@link ConfigError} when no quarantine is given. */
export function createProcessor(options: ProcessorOptions): Processor {
  const { config, clients } = options;
  const now = options.now ?? Date.now;
  let quarantine = options.quarantine;
  if (quarantine === undefined) {
    if (clients.firehose === undefined) {
      throw new ConfigError(
        'createProcessor needs clients.firehose (for the quarantine delivery stream) or a quarantine port; received neither',
      );
    }
    quarantine = new QuarantineSink({
      client: clients.firehose,
      deliveryStreamName: options.quarantineStreamName ?? config.quarantine.deliveryStreamName,
    });
  }
  const deps: ProcessorDeps = {
    config,
    ...processorStores(clients.dynamodb, options.tableName ?? config.table.name, config.table.ttlDays, now),
    quarantine,
    now,
    log: options.log ?? (() => {}),
  };
  const rollups = compileRollups(config.rollups);
  return { processBatch: (event) => processBatch(deps, rollups, event) };
}

async function processBatch(
  deps: ProcessorDeps,
  rollups: CompiledRollup[],
  event: KinesisStreamEvent,
): Promise<BatchResult> {
  const { now, log } = deps;
  const records = event.Records ?? [];
  const report: BatchReport = {
    records: records.length,
    userRecords: 0,
    aggregated: 0,
    quarantined: 0,
    itemsWritten: 0,
    itemsSkipped: 0,
    itemsFailed: 0,
    dynamoRequests: { reads: 0, writes: 0 },
    failedFrom: null,
    itemsCarried: 0,
    itemsFlushed: 0,
    stateBytes: 0,
  };
  // With a tumbling window, the state carried in (a state this processor did not write is set aside).
  const tumbling = tumblingOf(event);
  if (tumbling?.ignoredState !== undefined)
    log('warn', 'tumbling-window state ignored', { reason: tumbling.ignoredState });
  if (records.length === 0) {
    if (tumbling === undefined) return { response: { batchItemFailures: [] }, report };
    // The window's final invocation: write what it carried.
    const shardId = (event as { shardId?: string }).shardId ?? 'unknown';
    const c = await advanceCarry(deps.aggregates, tumbling.carry, [], [], undefined, shardId, tumbling.final);
    fillCarryReport(report, c);
    if (c.failed > 0) {
      log('warn', 'carried item writes failed', { shardId, failed: c.failed, error: String(c.error) });
      // No record to point at: a function error makes Lambda retry the final invocation with the same state.
      throw new ServiceError(`${c.failed} carried item write(s) failed: ${String(c.error)}`, {
        retryable: true,
        cause: c.error,
      });
    }
    return { response: { batchItemFailures: [], state: c.carry }, report };
  }
  let carry = tumbling?.carry;
  // Whether the batch's carried deltas were folded into `carry` (then it is the state to return).
  let folded = false;

  const outcomes = decodeRecords(records, deps.config.processing);
  report.userRecords = outcomes.length;
  // A Lambda batch holds one shard; `shardline invoke` may pass any event, so group by shard anyway.
  const byShard = new Map<string, DecodeOutcome[]>();
  for (const o of outcomes) {
    const list = byShard.get(o.origin.shardId);
    if (list) list.push(o);
    else byShard.set(o.origin.shardId, [o]);
  }
  let failedFrom: { position: string; seq: string } | undefined;
  const fail = (position: string, seq: string) => {
    if (failedFrom === undefined || position < failedFrom.position) failedFrom = { position, seq };
  };
  // Position -> sequence number, needed only to report a failure: built on first use.
  let seqs: Map<string, string> | undefined;
  const seqOf = (position: string): string => {
    seqs ??= new Map(outcomes.map((o) => [o.origin.position, o.origin.sequenceNumber]));
    return seqs.get(position) ?? position;
  };

  for (const [shardId, list] of byShard) {
    // 1. Quarantine the bad records (with reason and original bytes).
    const bad = list.filter((o): o is Extract<DecodeOutcome, { ok: false }> => !o.ok);
    if (bad.length > 0) {
      const sent = await deps.quarantine.send(bad.map((b) => toQuarantineRecord(b, now())));
      for (const f of sent.failed) fail(positionOf(f.sequenceNumber), f.sequenceNumber);
      if (sent.failed.length > 0) {
        log('warn', 'quarantine delivery failed', {
          shardId,
          failed: sent.failed.length,
          error: sent.lastError,
        });
      }
    }
    // 2. Fold the good ones and write each touched item behind its watermark fence.
    const inputs: FoldInput[] = [];
    for (const o of list) if (o.ok) inputs.push(o); // an accepted outcome is a FoldInput
    const deltas = foldBatch(rollups, inputs);
    const { live, carried } = splitDeltas(deltas.values(), carry !== undefined);
    const pending: AggregatePending[] = [];
    for (const d of live) pending.push(aggregatePending(d, shardId, inputs));
    const written = await deps.aggregates.write(pending);
    report.itemsWritten += written.applied;
    report.itemsSkipped += written.skipped;
    report.itemsFailed += written.failed.length;
    report.dynamoRequests.reads += written.requests.reads;
    report.dynamoRequests.writes += written.requests.writes;
    for (const f of written.failed) fail(f.lo, seqOf(f.lo));
    if (written.failed.length > 0) {
      log('warn', 'aggregate writes failed', {
        shardId,
        failed: written.failed.length,
        error: String(written.errors[0]),
      });
    }
    // 3. With a tumbling window: fold the carried deltas into the state, and write it out if the window
    // closes. Once folded, the state is returned even if a later step fails: its `wm` makes the retried
    // records add nothing to it, and the items it wrote are no longer in it. Failed carried writes stay in
    // the state for the next flush; on the window's last invocation they fail the batch, so it is retried.
    if (carry !== undefined && tumbling !== undefined) {
      const first = list[0]!.origin;
      if (failedFrom === undefined) {
        const last = list[list.length - 1]!.origin.position;
        const c = await advanceCarry(deps.aggregates, carry, carried, inputs, last, shardId, tumbling.final);
        fillCarryReport(report, c);
        carry = c.carry;
        folded = true;
        if (c.failed > 0) {
          log('warn', 'carried item writes failed', { shardId, failed: c.failed, error: String(c.error) });
          if (tumbling.final) fail(first.position, first.sequenceNumber);
        }
      } else fail(first.position, first.sequenceNumber);
    }
    // 4. Count what is fully processed (everything before the first failure) in the shard checkpoint.
    const entries: CounterEntry[] = [];
    let prev = '';
    for (const o of list) {
      if (failedFrom !== undefined && o.origin.position >= failedFrom.position) break;
      entries.push({
        position: o.origin.position,
        firstOfRecord: o.origin.position !== prev,
        outcome: o.ok ? 'aggregated' : o.reason,
        arrivalMs: o.origin.arrivalMs,
      });
      prev = o.origin.position;
      if (o.ok) report.aggregated++;
      else report.quarantined++;
    }
    const cp = checkpointPending(shardId, entries);
    if (cp) {
      const r = await deps.checkpoints.write([cp]);
      report.dynamoRequests.reads += r.requests.reads;
      report.dynamoRequests.writes += r.requests.writes;
      if (r.failed.length > 0) {
        fail(cp.lo, seqOf(cp.lo));
        log('warn', 'checkpoint write failed', { shardId, error: String(r.errors[0]) });
      }
    }
  }
  const failure = failedFrom as { position: string; seq: string } | undefined;
  report.failedFrom = failure?.seq ?? null;
  log('debug', 'batch processed', { ...report });
  const batchItemFailures = failure ? [{ itemIdentifier: failure.seq }] : [];
  if (tumbling === undefined) return { response: { batchItemFailures }, report };
  const state = folded && carry !== undefined ? carry : tumbling.carry;
  return { response: { batchItemFailures, state }, report };
}

function fillCarryReport(
  report: BatchReport,
  c: { carry: Carry; flushed: number; stateBytes: number; requests: { reads: number; writes: number } },
): void {
  report.itemsCarried = Object.keys(c.carry.items).length;
  report.itemsFlushed += c.flushed;
  report.stateBytes = c.stateBytes;
  report.dynamoRequests.reads += c.requests.reads;
  report.dynamoRequests.writes += c.requests.writes;
}

function positionOf(seq: string): string {
  return seq.padStart(129, '0');
}

function toQuarantineRecord(b: Extract<DecodeOutcome, { ok: false }>, nowMs: number): QuarantineRecord {
  const truncated = b.data.length > MAX_QUARANTINE_DATA_BYTES;
  return {
    reason: b.reason,
    detail: b.detail,
    shardId: b.origin.shardId,
    sequenceNumber: b.origin.sequenceNumber,
    subSequenceNumber: b.origin.subSequenceNumber,
    partitionKey: b.origin.partitionKey,
    eventId: b.eventId,
    data: (truncated ? b.data.subarray(0, MAX_QUARANTINE_DATA_BYTES) : b.data).toString('base64'),
    dataBytes: b.data.length,
    dataTruncated: truncated,
    approximateArrivalTimestamp: new Date(b.origin.arrivalMs).toISOString(),
    eventSourceARN: b.origin.eventSourceARN,
    quarantinedAt: new Date(nowMs).toISOString(),
  };
}
