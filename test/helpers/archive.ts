/**
 * Writes a local archive laid out exactly as the local Firehose writes it (hour partitions, Firehose object
 * names, Parquet columns from the envelope), and a quarantine folder (newline-delimited `QuarantineRecord`s),
 * from a list of events — through the Firehose's own delivery path. Shared test helper.
 */
import { resolveConfig } from '../../common/config.ts';
import { encodeEnvelope, type QuarantineReason, type ShardlineEvent } from '../../common/envelope.ts';
import type { QuarantineRecord } from '../../common/quarantine.ts';
import { deliverObjects } from '../../infra/local/firehose.ts';

export interface ArchivedEvent {
  readonly event: ShardlineEvent;
  /** Arrival time (epoch ms) that picks the hour partition. @default event.ts */
  readonly arrival?: number;
  /** How many times the archive holds it (at-least-once delivery: each copy in its own object). @default 1 */
  readonly copies?: number;
}

export interface WriteArchiveOptions {
  readonly dataDir: string;
  /** @default 'shardline-archive' */
  readonly bucket?: string;
  readonly events: readonly ArchivedEvent[];
  /** Partitioned by `approximateArrivalTimestamp`. @default [] */
  readonly quarantine?: readonly QuarantineRecord[];
  /** @default 'parquet' */
  readonly format?: 'parquet' | 'json';
  /** Delivery stream name in object keys. @default 'shardline-archive' */
  readonly streamName?: string;
}

export const hourPartition = (ms: number): string =>
  new Date(ms).toISOString().slice(0, 13).replace('T', '-');

/** Writes the archive; returns the files written. */
export async function writeArchive(options: WriteArchiveOptions): Promise<string[]> {
  const stream = options.streamName ?? 'shardline-archive';
  const format = options.format ?? 'parquet';
  // Group into objects: (partition, copy index) → events.
  const objects = new Map<string, { dt: string; first: number; events: ShardlineEvent[] }>();
  for (const a of options.events) {
    const arrival = a.arrival ?? a.event.ts;
    const dt = hourPartition(arrival);
    for (let copy = 0; copy < (a.copies ?? 1); copy++) {
      const key = `${dt}#${copy}`;
      let o = objects.get(key);
      if (!o) {
        o = { dt, first: arrival, events: [] };
        objects.set(key, o);
      }
      o.first = Math.min(o.first, arrival);
      o.events.push(a.event);
    }
  }
  // Written through the local Firehose's own delivery path: the same names, prefixes and Parquet columns.
  const config = resolveConfig({
    archive: { bucket: options.bucket ?? 'shardline-archive', deliveryStreamName: stream, format },
  });
  const files: string[] = [];
  for (const o of objects.values()) {
    const records = o.events.map((e) => ({ data: Buffer.from(encodeEnvelope(e)), arrivalMs: o.first }));
    files.push(...(await deliverObjects({ config, dataDir: options.dataDir, records })));
  }
  const byDt = new Map<string, QuarantineRecord[]>();
  for (const q of options.quarantine ?? []) {
    const dt = hourPartition(Date.parse(q.approximateArrivalTimestamp));
    byDt.set(dt, [...(byDt.get(dt) ?? []), q]);
  }
  for (const records of byDt.values()) {
    const arrivalMs = Date.parse(records[0]!.approximateArrivalTimestamp);
    files.push(
      ...(await deliverObjects({
        config,
        dataDir: options.dataDir,
        stream: 'quarantine',
        records: records.map((r) => ({ data: Buffer.from(`${JSON.stringify(r)}\n`), arrivalMs })),
      })),
    );
  }
  return files;
}

let seq = 1000;
/** A quarantine record for a valid event rejected as `late` or `future_timestamp` (or any other reason). */
export function quarantineRecord(
  event: ShardlineEvent | null,
  reason: QuarantineReason,
  arrival: number,
  overrides: Partial<QuarantineRecord> = {},
): QuarantineRecord {
  seq += 1;
  const bytes = Buffer.from(event ? encodeEnvelope(event) : 'not json');
  return {
    reason,
    detail: `${reason} (test)`,
    shardId: 'shardId-000000000000',
    sequenceNumber: String(seq),
    subSequenceNumber: 0,
    partitionKey: event?.source ?? 'unknown',
    eventId: event?.eventId ?? null,
    data: bytes.toString('base64'),
    dataBytes: bytes.length,
    dataTruncated: false,
    approximateArrivalTimestamp: new Date(arrival).toISOString(),
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-events',
    quarantinedAt: new Date(arrival + 1000).toISOString(),
    ...overrides,
  };
}
