/**
 * Pipeline health for the dashboard: `readStatus` (per shard progress and lag) plus per-shard throughput
 * measured between polls, quarantine totals by reason and the depth of the on-failure destination
 * (locally the files under `<dataDir>/onfailure/`, on AWS the SQS queue's ApproximateNumberOfMessages).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ResolvedConfig } from '../common/config.ts';
import { countFiles } from '../common/files.ts';
import { type PipelineStatus, readStatus, type ShardStatus } from '../queries/status.ts';
import type { DashboardClients, DashboardTarget } from './options.ts';

export interface ShardHealth extends ShardStatus {
  /** Records per second over the last {@link RATE_WINDOW_MS}, or null until two polls are 1 s apart. */
  readonly recordsPerSecond: number | null;
}

export interface OnFailureDepth {
  /** Batches sent to the on-failure destination and still there, or null when unknown. */
  readonly depth: number | null;
  /** Where the count comes from: a local folder, an SQS queue, or nothing configured. */
  readonly source: 'local' | 'sqs' | 'none';
  /** The folder or queue URL counted, or why nothing is. */
  readonly detail: string;
}

export interface PipelineHealth {
  readonly target: DashboardTarget;
  readonly generatedAt: string;
  readonly stream: string;
  readonly table: string;
  readonly shards: ShardHealth[];
  readonly totals: PipelineStatus['totals'] & { recordsPerSecond: number | null; maxLagMs: number | null };
  readonly quarantine: { readonly total: number; readonly late: number; reasons: Record<string, number> };
  readonly onFailure: OnFailureDepth;
}

/** Rates are measured against the oldest poll kept, at most this old. */
export const RATE_WINDOW_MS = 30_000;
const MIN_RATE_SPAN_MS = 1_000;

interface Sample {
  readonly t: number;
  readonly records: ReadonlyMap<string, number>;
}

/** Per-shard records/s from successive cumulative counts. Pure apart from its memory of samples. */
export class ThroughputMeter {
  #samples: Sample[] = [];

  /** Adds a sample at `t` (epoch ms) and returns each shard's rate against the oldest sample kept. */
  sample(t: number, records: ReadonlyMap<string, number>): Map<string, number | null> {
    this.#samples = this.#samples.filter((s) => t - s.t <= RATE_WINDOW_MS && s.t < t);
    const base = this.#samples.find((s) => t - s.t >= MIN_RATE_SPAN_MS);
    this.#samples.push({ t, records });
    const out = new Map<string, number | null>();
    for (const [shard, n] of records) {
      const before = base?.records.get(shard);
      out.set(shard, base && before !== undefined ? Math.max(0, ((n - before) * 1000) / (t - base.t)) : null);
    }
    return out;
  }
}

/** Files under `<dataDir>/onfailure/`, recursively (0 when the folder does not exist yet). */
export function localOnFailureDepth(dataDir: string): OnFailureDepth {
  const dir = join(dataDir, 'onfailure');
  return { depth: existsSync(dir) ? countFiles(dir) : 0, source: 'local', detail: dir };
}

/** ApproximateNumberOfMessages of the on-failure queue. */
export async function sqsOnFailureDepth(sqs: SQSClient, queueUrl: string): Promise<OnFailureDepth> {
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    const v = Number(out.Attributes?.ApproximateNumberOfMessages);
    return { depth: Number.isFinite(v) ? v : null, source: 'sqs', detail: queueUrl };
  } catch (err) {
    return { depth: null, source: 'sqs', detail: `${queueUrl}: ${(err as Error).message}` };
  }
}

/** Reads everything the health panel shows. */
export async function readHealth(args: {
  config: ResolvedConfig;
  target: DashboardTarget;
  clients: DashboardClients;
  meter: ThroughputMeter;
  dataDir: string | undefined;
  onFailureQueueUrl: string | undefined;
  now?: () => number;
}): Promise<PipelineHealth> {
  const now = args.now ?? Date.now;
  const status = await readStatus(args.config, {
    kinesis: args.clients.kinesis,
    dynamodb: args.clients.dynamodb,
  });
  const t = now();
  const rates = args.meter.sample(t, new Map(status.shards.map((s) => [s.shardId, s.records])));
  const shards = status.shards.map((s) => ({ ...s, recordsPerSecond: rates.get(s.shardId) ?? null }));
  const known = shards.map((s) => s.recordsPerSecond).filter((r): r is number => r !== null);
  const lags = shards.map((s) => s.lagMs).filter((l): l is number => l !== null);
  const reasons: Record<string, number> = {};
  for (const s of shards) for (const [k, v] of Object.entries(s.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
  let onFailure: OnFailureDepth;
  if (args.target === 'local') {
    onFailure = args.dataDir
      ? localOnFailureDepth(args.dataDir)
      : { depth: null, source: 'none', detail: 'no data dir given' };
  } else if (args.onFailureQueueUrl && args.clients.sqs) {
    onFailure = await sqsOnFailureDepth(args.clients.sqs, args.onFailureQueueUrl);
  } else {
    onFailure = { depth: null, source: 'none', detail: 'no on-failure queue URL given' };
  }
  return {
    target: args.target,
    generatedAt: new Date(t).toISOString(),
    stream: status.stream,
    table: status.table,
    shards,
    totals: {
      ...status.totals,
      recordsPerSecond: known.length > 0 ? known.reduce((a, b) => a + b, 0) : null,
      maxLagMs: lags.length > 0 ? Math.max(...lags) : null,
    },
    quarantine: { total: status.totals.quarantined, late: status.totals.late, reasons },
    onFailure,
  };
}
