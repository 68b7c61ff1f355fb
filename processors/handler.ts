/**
 * The processor Lambda: one Kinesis micro-batch in, exactly-once aggregate writes out.
 *
 * decode + validate (quarantine the bad, with a reason) → fold (pure core) → fenced writes per item →
 * shard checkpoint. Transient failures are reported as `batchItemFailures` from the lowest affected
 * sequence number; the watermark fence makes the replay harmless. Bad data never throws.
 *
 * The same module runs in AWS (bundled by CDK) and in the local cloud (invoked by the local event source
 * mapping). Settings come from the environment, read once at cold start:
 * - `SHARDLINE_CONFIG`: JSON config input (default: the repository's `shardline.config.ts`, bundled).
 * - `SHARDLINE_TABLE`, `SHARDLINE_QUARANTINE_STREAM`: override the names in the config.
 * - Endpoints: the SDK's standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_FIREHOSE`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { dynamodbClient, firehoseClient } from '../common/aws.ts';
import { type ResolvedConfig, resolveConfig, type ShardlineConfigInput } from '../common/config.ts';
import { MAX_QUARANTINE_DATA_BYTES, type QuarantineRecord } from '../common/quarantine.ts';
import configInput from '../shardline.config.ts';
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
import { type FoldInput, foldBatch } from './core/fold.ts';
import { type CompiledRollup, compileRollups } from './core/rollup.ts';
import type { AggState } from './core/state.ts';

export interface ProcessorDeps {
  config: ResolvedConfig;
  aggregates: FencedStore<AggState>;
  checkpoints: FencedStore<ShardCounters>;
  quarantine: Pick<QuarantineSink, 'send'>;
  now?: () => number;
  log?: (level: 'debug' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

/**
 * The processor's two fenced stores on one DynamoDB client and table (aggregate items and shard
 * checkpoints live side by side): how the Lambda, the chaos run, the benchmarks and the tests all build them.
 */
export function processorStores(
  client: DynamoDBClient,
  tableName: string,
  ttlDays: ResolvedConfig['table']['ttlDays'],
  now?: () => number,
): Pick<ProcessorDeps, 'aggregates' | 'checkpoints'> {
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
}

export type ProcessorHandler = ((
  event: KinesisStreamEvent,
  context?: Context,
) => Promise<KinesisStreamBatchResponse>) & {
  /** The report of the last invocation. */
  lastReport(): BatchReport | undefined;
};

/** Builds the handler around explicit dependencies (tests, the local cloud and benchmarks use this). */
export function createProcessor(deps: ProcessorDeps): ProcessorHandler {
  const rollups: CompiledRollup[] = compileRollups(deps.config.rollups);
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  let last: BatchReport | undefined;

  const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
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
    };
    last = report;
    if (records.length === 0) return { batchItemFailures: [] };

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
      const pending: AggregatePending[] = [];
      for (const d of deltas.values()) pending.push(aggregatePending(d, shardId, inputs));
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
      // 3. Count what is fully processed (everything before the first failure) in the shard checkpoint.
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
    return { batchItemFailures: failure ? [{ itemIdentifier: failure.seq }] : [] };
  };
  return Object.assign(handler, { lastReport: () => last });
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

/** Everything the Lambda needs, from the environment (read once). */
export function processorFromEnvironment(env: NodeJS.ProcessEnv = process.env): ProcessorHandler {
  const input: ShardlineConfigInput = env.SHARDLINE_CONFIG
    ? (JSON.parse(env.SHARDLINE_CONFIG) as ShardlineConfigInput)
    : configInput;
  const config = resolveConfig(input);
  const tableName = env.SHARDLINE_TABLE ?? config.table.name;
  const ddb = dynamodbClient({ region: env.AWS_REGION ?? config.region });
  const inLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const serviceName = env.POWERTOOLS_SERVICE_NAME ?? 'shardline-processor';
  // Structured JSON logs (Powertools). Locally the pipeline's own progress owns the terminal: warnings only.
  const logger = new Logger({
    serviceName,
    logLevel: (env.POWERTOOLS_LOG_LEVEL ?? (inLambda ? 'INFO' : 'WARN')) as 'INFO',
  });
  // CloudWatch metrics as EMF (Powertools), only where CloudWatch reads them: in Lambda.
  const metrics = inLambda
    ? new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'Shardline', serviceName })
    : undefined;
  const processor = createProcessor({
    config,
    ...processorStores(ddb, tableName, config.table.ttlDays),
    quarantine: new QuarantineSink({
      client: firehoseClient({ region: env.AWS_REGION ?? config.region }),
      deliveryStreamName: env.SHARDLINE_QUARANTINE_STREAM ?? config.quarantine.deliveryStreamName,
    }),
    log: (level, message, data) => logger[level](message, data ?? {}),
  });
  if (!metrics) return processor;
  const withMetrics = async (event: KinesisStreamEvent, context?: Context) => {
    try {
      return await processor(event, context);
    } finally {
      const r = processor.lastReport();
      if (r) {
        metrics.addMetric('AggregatedRecords', MetricUnit.Count, r.aggregated);
        metrics.addMetric('QuarantinedRecords', MetricUnit.Count, r.quarantined);
        metrics.addMetric('ItemsWritten', MetricUnit.Count, r.itemsWritten);
        metrics.addMetric('ItemWriteFailures', MetricUnit.Count, r.itemsFailed);
      }
      metrics.publishStoredMetrics();
    }
  };
  return Object.assign(withMetrics, { lastReport: () => processor.lastReport() });
}

let instance: ProcessorHandler | undefined;

/** The Lambda entry point (CDK bundles this export; the local cloud invokes it too). */
export const handler = async (
  event: KinesisStreamEvent,
  context?: Context,
): Promise<KinesisStreamBatchResponse> => {
  instance ??= processorFromEnvironment();
  return instance(event, context);
};
