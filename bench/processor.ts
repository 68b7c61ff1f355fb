/**
 * Processor CPU: records/s of the handler's decode + validate + fold path on one batch, beside
 * (a) the floor: base64 decode + JSON.parse of the same records and nothing else, and
 * (b) the common per-record pattern: Powertools `BatchProcessor` with a per-record handler that decodes,
 *     validates and folds each record into the same kind of in-memory map.
 * Runs are interleaved (floor, subject, per-record, repeated) and medians compared, so a busy machine
 * slows all three alike.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { type ResolvedConfig, resolveConfig } from '../common/config.ts';
import {
  type AggState,
  aggregateKey,
  compileRollups,
  decodeRecords,
  emptyState,
  encodeDims,
  type FoldInput,
  foldBatch,
  foldEvent,
  windowStart,
} from '../processors/index.ts';
import { generateFleet, median, toEvent } from './data.ts';

export interface ProcessorResult {
  recordsPerSec: number;
  floorRecordsPerSec: number;
  ratioToFloor: number;
  perRecordBaselineRecordsPerSec: number;
  speedupVsPerRecord: number;
  batchRecords: number;
  rounds: number;
  /**
   * The subject's two stages timed alone in the same rounds, records/s: decode + validate
   * (`decodeRecords`), and the fold of already decoded records (`foldBatch`). Where the time goes.
   */
  stages: { decodeRecordsPerSec: number; foldRecordsPerSec: number };
}

export interface ProcessorBenchOptions {
  /** Records per batch, 1–10,000. @default 10000 */
  readonly batchRecords?: number;
  /** Interleaved rounds, 1–100. @default 9 */
  readonly rounds?: number;
  /** Batches per measurement within a round, 1–100. @default 5 */
  readonly repeats?: number;
  readonly config?: ResolvedConfig;
}

/** The floor: decode and parse every record, nothing else. */
export function floorPass(records: readonly KinesisStreamRecord[]): number {
  let n = 0;
  for (const r of records) {
    const v = JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')) as { v?: unknown };
    if (v.v === 1) n++;
  }
  return n;
}

/** The subject: what the handler does before its writes. */
export function subjectPass(
  records: readonly KinesisStreamRecord[],
  config: ResolvedConfig,
  rollups = compileRollups(config.rollups),
): number {
  const outcomes = decodeRecords(records, config.processing);
  const inputs: FoldInput[] = [];
  for (const o of outcomes) if (o.ok) inputs.push(o);
  return foldBatch(rollups, inputs).size;
}

/** The per-record baseline: Powertools BatchProcessor, one decode + validate + fold per record. */
export async function perRecordPass(
  event: KinesisStreamEvent,
  config: ResolvedConfig,
  rollups = compileRollups(config.rollups),
): Promise<number> {
  const states = new Map<string, AggState>();
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
    const [outcome] = decodeRecords([record], config.processing);
    if (!outcome?.ok) throw new Error('invalid record');
    const e = outcome.event;
    for (const rollup of rollups) {
      if (!rollup.matches(e)) continue;
      const dims = encodeDims(rollup.dimValues(e));
      for (const w of rollup.windows) {
        const pk = aggregateKey({
          rollup: rollup.name,
          window: w.size,
          dims,
          windowStart: windowStart(e.ts, w.ms),
        });
        let s = states.get(pk);
        if (s === undefined) {
          s = emptyState();
          states.set(pk, s);
        }
        // The same per-event fold as the subject's (exact stats and any declared sketches).
        foldEvent(s, rollup, e);
      }
    }
  };
  await processPartialResponse(event, recordHandler, processor);
  return states.size;
}

function rate(records: number, ms: number): number {
  return (records * 1000) / ms;
}

export async function benchProcessor(options: ProcessorBenchOptions = {}): Promise<ProcessorResult> {
  const batchRecords = options.batchRecords ?? 10_000;
  const rounds = options.rounds ?? 9;
  const repeats = options.repeats ?? 5;
  const config = options.config ?? resolveConfig({});
  const rollups = compileRollups(config.rollups);
  const fleet = generateFleet({ records: batchRecords, devices: 1000, rate: 1000 });
  // A Lambda batch as the function receives it: one shard's records (Lambda never mixes shards in a batch),
  // parsed from the invoke payload's JSON by the runtime (flat strings, not ones built here by concatenation).
  const event = JSON.parse(
    JSON.stringify(toEvent(fleet.map((r) => ({ ...r, shard: 0 })))),
  ) as KinesisStreamEvent;
  const records = event.Records;
  // Results must agree before anything is timed.
  const a = subjectPass(records, config, rollups);
  const b = await perRecordPass(event, config, rollups);
  if (a !== b) throw new Error(`processor bench: subject made ${a} items, per-record baseline ${b}`);
  if (floorPass(records) !== records.length) throw new Error('processor bench: floor parsed too few records');
  // Warm-up.
  for (let i = 0; i < 3; i++) {
    floorPass(records);
    subjectPass(records, config, rollups);
    await perRecordPass(event, config, rollups);
  }
  const floor: number[] = [];
  const subject: number[] = [];
  const perRecord: number[] = [];
  const decodeOnly: number[] = [];
  const foldOnly: number[] = [];
  const decoded: FoldInput[] = [];
  for (const o of decodeRecords(records, config.processing)) if (o.ok) decoded.push(o);
  const time = async (f: () => unknown): Promise<number> => {
    const t = performance.now();
    for (let i = 0; i < repeats; i++) await f();
    return rate(records.length * repeats, performance.now() - t);
  };
  for (let r = 0; r < rounds; r++) {
    floor.push(await time(() => floorPass(records)));
    subject.push(await time(() => subjectPass(records, config, rollups)));
    perRecord.push(await time(() => perRecordPass(event, config, rollups)));
    decodeOnly.push(await time(() => decodeRecords(records, config.processing)));
    foldOnly.push(await time(() => foldBatch(rollups, decoded)));
  }
  // Ratios are taken within each round (baseline and subject ran seconds apart), then the median.
  return {
    recordsPerSec: median(subject),
    floorRecordsPerSec: median(floor),
    ratioToFloor: median(subject.map((s, i) => s / floor[i]!)),
    perRecordBaselineRecordsPerSec: median(perRecord),
    speedupVsPerRecord: median(subject.map((s, i) => s / perRecord[i]!)),
    batchRecords,
    rounds,
    stages: { decodeRecordsPerSec: median(decodeOnly), foldRecordsPerSec: median(foldOnly) },
  };
}
