/**
 * The quarantine sink: invalid records, with their reason and original bytes, to a Firehose Direct PUT
 * delivery stream (`PutRecordBatch`, ≤500 records and ≤4 MiB per call), retrying only the entries the
 * response counts as failed, with exponential backoff and full jitter.
 */
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { ServiceError } from '../../common/errors.ts';
import type { QuarantineRecord } from '../../common/quarantine.ts';

const MAX_RECORDS = 500;
const MAX_BYTES = 4 * 1024 * 1024;

export interface QuarantineSinkOptions {
  client: FirehoseClient;
  deliveryStreamName: string;
  /** Attempts per entry, 1–20. @default 6 */
  maxAttempts?: number;
  /** Backoff base in ms. @default 50 */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SendOutcome {
  /** Records that could not be delivered (in input order). */
  readonly failed: QuarantineRecord[];
  readonly requests: number;
  readonly lastError?: string;
}

export class QuarantineSink {
  readonly #o: Required<QuarantineSinkOptions>;

  constructor(options: QuarantineSinkOptions) {
    this.#o = {
      maxAttempts: 6,
      baseDelayMs: 50,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...options,
    };
  }

  async send(records: readonly QuarantineRecord[]): Promise<SendOutcome> {
    let requests = 0;
    const failed: QuarantineRecord[] = [];
    let lastError: string | undefined;
    for (const chunk of chunks(records)) {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > this.#o.maxAttempts) {
          failed.push(...pending.map((p) => p.record));
          break;
        }
        if (attempt > 1)
          await this.#o.sleep(Math.random() * Math.min(5_000, this.#o.baseDelayMs * 2 ** attempt));
        requests++;
        try {
          const res = await this.#o.client.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: this.#o.deliveryStreamName,
              Records: pending.map((p) => ({ Data: p.bytes })),
            }),
          );
          if (!res.FailedPutCount) {
            pending = [];
            continue;
          }
          const responses = res.RequestResponses ?? [];
          const retry = pending.filter(
            (_, i) => responses[i]?.ErrorCode !== undefined || responses[i] === undefined,
          );
          lastError = responses.find((r) => r.ErrorCode)?.ErrorMessage ?? lastError;
          pending = retry;
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err);
          const retryable = !(err instanceof Error && /ResourceNotFound|InvalidArgument/.test(err.name));
          if (!retryable) {
            failed.push(...pending.map((p) => p.record));
            pending = [];
          }
        }
      }
    }
    return lastError === undefined ? { failed, requests } : { failed, requests, lastError };
  }
}

interface Encoded {
  record: QuarantineRecord;
  bytes: Uint8Array;
}

function* chunks(records: readonly QuarantineRecord[]): Generator<Encoded[]> {
  let chunk: Encoded[] = [];
  let size = 0;
  for (const record of records) {
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`);
    if (bytes.length > 1_000 * 1024) {
      throw new ServiceError(
        `quarantine record of ${bytes.length} bytes exceeds Firehose's 1,000 KiB record limit`,
      );
    }
    if (chunk.length === MAX_RECORDS || size + bytes.length > MAX_BYTES) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push({ record, bytes });
    size += bytes.length;
  }
  if (chunk.length > 0) yield chunk;
}
