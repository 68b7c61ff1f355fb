/**
 * Deterministic benchmark inputs: a synthetic IoT fleet's envelopes as Kinesis records, exactly as the
 * Lambda event source mapping delivers them (base64 data, Kinesis-like 56-digit sequence numbers).
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { encodeEnvelope } from '../common/envelope.ts';
import { toLambdaRecord } from '../infra/local/index.ts';
import { iotScenario } from '../producers/scenarios/iot.ts';

/** Fixed event time of the first record (a Monday, 00:00 UTC), so every run sees the same windows. */
export const BENCH_T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

export interface FleetOptions {
  /** Records to generate, 1–10,000,000. */
  readonly records: number;
  /** IoT devices, 1–100,000. @default 1000 */
  readonly devices?: number;
  /** Events per second of event time (all devices together), > 0. @default 1000 */
  readonly rate?: number;
  /** Shards the records are spread over (by device), 1–500. @default 1 */
  readonly shards?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Event time of the first record, epoch ms. @default BENCH_T0 */
  readonly startMs?: number;
}

/** One generated record with its shard and arrival time. */
export interface BenchRecord {
  readonly shard: number;
  readonly arrivalMs: number;
  readonly partitionKey: string;
  readonly json: string;
}

/** Generates the fleet's records in event-time order (arrival = event time + 50 ms). */
export function generateFleet(options: FleetOptions): BenchRecord[] {
  const rate = options.rate ?? 1000;
  const shards = options.shards ?? 1;
  const start = options.startMs ?? BENCH_T0;
  const scenario = iotScenario({ seed: options.seed ?? 1, devices: options.devices ?? 1000 });
  const shardOf = new Map<string, number>();
  const out: BenchRecord[] = [];
  for (let i = 0; i < options.records; i++) {
    const now = start + Math.floor((i * 1000) / rate);
    const event = scenario.next(now);
    let shard = shardOf.get(event.source);
    if (shard === undefined) {
      shard = shardOf.size % shards;
      shardOf.set(event.source, shard);
    }
    const ts = typeof event.ts === 'number' ? event.ts : Date.parse(event.ts);
    out.push({ shard, arrivalMs: ts + 50, partitionKey: event.source, json: encodeEnvelope(event) });
  }
  return out;
}

/** A Kinesis-like sequence number (56 digits) increasing with `i`. */
export function sequenceNumber(i: number): string {
  return `49590338271490256608559692538361571095921575989136${String(i).padStart(6, '0')}`;
}

/**
 * The records as Lambda Kinesis event records of shard `shardId-<n>`, with sequence numbers from `from`:
 * built by the local event source mapping's own `toLambdaRecord`, exactly what it delivers.
 */
export function toKinesisRecords(records: readonly BenchRecord[], from = 1): KinesisStreamRecord[] {
  return records.map((r, i) =>
    toLambdaRecord(
      {
        sequenceNumber: sequenceNumber(from + i),
        partitionKey: r.partitionKey,
        data: Buffer.from(r.json),
        arrivalMs: r.arrivalMs,
      },
      {
        shardId: `shardId-${String(r.shard).padStart(12, '0')}`,
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-events',
        region: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/shardline-processor',
      },
    ),
  );
}

export function toEvent(records: readonly BenchRecord[], from = 1): KinesisStreamEvent {
  return { Records: toKinesisRecords(records, from) };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The `q`-quantile (0–1) of a non-empty list, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}
