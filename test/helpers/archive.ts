/**
 * Writes a local archive laid out like the bucket the local Firehose writes
 * (`<dataDir>/s3/<bucket>/raw/dt=YYYY-MM-DD-HH/<name>-1-YYYY-MM-DD-HH-mm-ss-<uuid>.parquet`, Parquet columns
 * exactly `ARCHIVE_COLUMNS`) and a quarantine folder (newline-delimited `QuarantineRecord`s), from a list of
 * events. Parquet is written by real DuckDB. Shared test helper.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { encodeEnvelope, type QuarantineReason, type ShardlineEvent } from '../../common/envelope.ts';
import type { QuarantineRecord } from '../../common/quarantine.ts';

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

function objectName(stream: string, ms: number, ext: string): string {
  const d = new Date(ms).toISOString();
  const stamp = `${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-${d.slice(17, 19)}`;
  return `${stream}-1-${stamp}-${randomUUID()}${ext}`;
}

/** Writes the archive; returns the files written. */
export async function writeArchive(options: WriteArchiveOptions): Promise<string[]> {
  const bucketDir = join(options.dataDir, 's3', options.bucket ?? 'shardline-archive');
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
  const files: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'shardline-archive-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    for (const o of objects.values()) {
      const dir = join(bucketDir, 'raw', `dt=${o.dt}`);
      mkdirSync(dir, { recursive: true });
      const lines = o.events.map((e) => encodeEnvelope(e)).join('\n');
      if (format === 'json') {
        const file = join(dir, objectName(stream, o.first, ''));
        writeFileSync(file, o.events.map((e) => encodeEnvelope(e)).join(''));
        files.push(file);
        continue;
      }
      const src = join(tmp, `${randomUUID()}.jsonl`);
      writeFileSync(src, `${lines}\n`);
      const file = join(dir, objectName(stream, o.first, '.parquet'));
      await conn.run(
        `COPY (SELECT CAST(v AS INTEGER) AS v, eventId AS eventid, source AS source, type AS type,
                CAST(CAST(ts AS TIMESTAMPTZ) AS TIMESTAMP) AS ts,
                CAST(metrics AS MAP(VARCHAR, DOUBLE)) AS metrics, CAST(dims AS MAP(VARCHAR, VARCHAR)) AS dims
              FROM read_json('${src}', format = 'newline_delimited',
                columns = {v: 'INTEGER', eventId: 'VARCHAR', source: 'VARCHAR', type: 'VARCHAR', ts: 'VARCHAR',
                           metrics: 'MAP(VARCHAR, DOUBLE)', dims: 'MAP(VARCHAR, VARCHAR)'}))
         TO '${file}' (FORMAT parquet)`,
      );
      files.push(file);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(tmp, { recursive: true, force: true });
  }
  const byDt = new Map<string, QuarantineRecord[]>();
  for (const q of options.quarantine ?? []) {
    const dt = hourPartition(Date.parse(q.approximateArrivalTimestamp));
    byDt.set(dt, [...(byDt.get(dt) ?? []), q]);
  }
  for (const [dt, records] of byDt) {
    const dir = join(bucketDir, 'quarantine', `dt=${dt}`);
    mkdirSync(dir, { recursive: true });
    const file = join(
      dir,
      objectName('shardline-quarantine', Date.parse(records[0]!.approximateArrivalTimestamp), ''),
    );
    writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    files.push(file);
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
