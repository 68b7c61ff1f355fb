/**
 * Writes validated ingest records to Kinesis with PutRecords, retrying only the entries the service
 * reported failed (and whole calls that failed transiently) with full-jitter backoff. Outcomes are values.
 */
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { checkInteger } from '../../common/validate.ts';
import {
  backoffDelay,
  chunkRequests,
  classifyRequestError,
  entryBytes,
  entryFailure,
} from '../sdk/batching.ts';
import { MIB } from '../sdk/options.ts';
import type { IngestRecord } from './body.ts';
import { IngestOptionsError } from './errors.ts';

export interface PutOptions {
  /** Attempts per record (first try included), 1–20. @default 4 */
  readonly maxAttempts?: number;
  /** Backoff base in ms, 1–60,000 (full jitter: a delay is uniform in [0, min(cap, base·2^(n-1)))). @default 50 */
  readonly backoffBaseMs?: number;
  /** Backoff cap in ms, 1–60,000. @default 1000 */
  readonly backoffCapMs?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A record Kinesis did not take after every attempt. */
export interface PutFailure {
  readonly index: number;
  readonly code: string;
  readonly message: string;
}

export interface PutOutcome {
  readonly accepted: number;
  /** In index order. */
  readonly failed: readonly PutFailure[];
  /** Entry re-sends. */
  readonly retried: number;
}

function check(name: string, v: number, min: number, max: number): number {
  return checkInteger(name, v, min, max, (message) => new IngestOptionsError(message));
}

const LIMITS = { maxRecordsPerRequest: 500, maxRequestBytes: 5 * MIB, maxRecordBytes: MIB };

/** Puts every record; never throws for delivery failures (they come back in `failed`). */
export async function putRecordsAll(
  client: KinesisClient,
  streamName: string,
  records: readonly IngestRecord[],
  options: PutOptions = {},
): Promise<PutOutcome> {
  const maxAttempts = check('maxAttempts', options.maxAttempts ?? 4, 1, 20);
  const base = check('backoffBaseMs', options.backoffBaseMs ?? 50, 1, 60_000);
  const cap = check('backoffCapMs', options.backoffCapMs ?? 1000, 1, 60_000);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let pending = [...records];
  const failed: PutFailure[] = [];
  let accepted = 0;
  let retried = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 1) {
      retried += pending.length;
      await sleep(backoffDelay(attempt - 1, base, cap, random));
    }
    const last = attempt >= maxAttempts;
    const next: IngestRecord[] = [];
    for (const chunk of chunkRequests(pending, (r) => entryBytes(r.data, r.partitionKey), LIMITS)) {
      try {
        const out = await client.send(
          new PutRecordsCommand({
            StreamName: streamName,
            Records: chunk.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
          }),
        );
        const results = out.Records ?? [];
        chunk.forEach((r, i) => {
          const failure = entryFailure(results[i]);
          if (failure === undefined) {
            accepted++;
            return;
          }
          if (!last && failure.retryable) next.push(r);
          else failed.push({ index: r.index, code: failure.code, message: failure.message });
        });
      } catch (err) {
        const kind = classifyRequestError(err);
        for (const r of chunk) {
          if (!last && kind !== 'fatal') next.push(r);
          else
            failed.push({
              index: r.index,
              code: (err as Error).name || 'Error',
              message: (err as Error).message,
            });
        }
      }
    }
    pending = next;
  }
  failed.sort((a, b) => a.index - b.index);
  return { accepted, failed, retried };
}
