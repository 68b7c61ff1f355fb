/**
 * `shardline bench`: speed and cost as ratios against baselines measured in the same process run.
 * Public surface of the bench area.
 */
import { benchMemory, type MemoryResult } from './memory.ts';
import { benchPipeline, type PipelineResult } from './pipeline.ts';
import { benchProcessor, type ProcessorResult } from './processor.ts';
import { benchScan, type ScanResult } from './scan.ts';
import { benchWrites, type WritesResult } from './writes.ts';

export type { MemoryResult, PipelineResult, ProcessorResult, ScanResult, WritesResult };
export { benchMemory, benchPipeline, benchProcessor, benchScan, benchWrites };

export interface BenchReport {
  quick: boolean;
  startedAt: string;
  node: string;
  processor: ProcessorResult;
  writes: WritesResult;
  pipeline: PipelineResult;
  scan: ScanResult;
  memory: MemoryResult;
  targets: { name: string; value: number; target: string; met: boolean }[];
}

export interface BenchOptions {
  /** Smaller inputs (finishes in a few minutes on 2 cores). @default false */
  readonly quick?: boolean;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** Run only these sections. @default all */
  readonly only?: readonly ('processor' | 'writes' | 'pipeline' | 'scan' | 'memory')[];
  /** Tiny inputs for tests of the report's shape (figures meaningless). @default false */
  readonly tiny?: boolean;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const tiny = options.tiny ?? false;
  const log = options.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  log('processor CPU...');
  const processor = await benchProcessor(
    tiny ? { batchRecords: 200, rounds: 1, repeats: 1 } : { rounds: quick ? 7 : 11 },
  );
  log('DynamoDB writes...');
  const writes = await benchWrites(tiny ? { seconds: 2, naiveSample: 20 } : { seconds: quick ? 20 : 60 });
  log('pipeline...');
  const pipeline = await benchPipeline(
    tiny ? { records: 200, markers: 1 } : { records: quick ? 40_000 : 150_000, markers: quick ? 10 : 30 },
  );
  log('scans...');
  const scan = await benchScan(
    tiny ? { hours: 4, perHour: 50 } : { hours: quick ? 12 : 24, perHour: quick ? 2000 : 5000 },
  );
  log('memory...');
  const memory = await benchMemory({ batchRecords: tiny ? 100 : 10_000 });
  const t = (name: string, value: number, target: string, met: boolean) => ({ name, value, target, met });
  return {
    quick,
    startedAt,
    node: process.version,
    processor,
    writes,
    pipeline,
    scan,
    memory,
    targets: [
      t('processor.ratioToFloor', processor.ratioToFloor, '>= 0.5', processor.ratioToFloor >= 0.5),
      t(
        'processor.speedupVsPerRecord',
        processor.speedupVsPerRecord,
        '>= 3',
        processor.speedupVsPerRecord >= 3,
      ),
      t('writes.reduction (1 s window)', writes.reduction, '>= 20', writes.reduction >= 20),
      t('pipeline.ratio', pipeline.ratio, '>= 0.8', pipeline.ratio >= 0.8),
      t('scan.reductionVsJson', scan.reductionVsJson, '>= 10', scan.reductionVsJson >= 10),
      t('memory.peakRssMb', memory.peakRssMb, '<= 256', memory.peakRssMb <= 256),
    ],
  };
}

const f = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The markdown table printed to the terminal and kept in the README's Performance section. */
export function formatBenchMarkdown(r: BenchReport): string {
  const rows: [string, string, string, string][] = [
    [
      'Processor CPU (decode+validate+fold, 10,000-record batch)',
      `${f(r.processor.recordsPerSec)} rec/s`,
      `floor (base64+JSON.parse) ${f(r.processor.floorRecordsPerSec)} rec/s; Powertools per-record ${f(r.processor.perRecordBaselineRecordsPerSec)} rec/s`,
      `${f(r.processor.ratioToFloor, 2)}× floor; ${f(r.processor.speedupVsPerRecord, 1)}× per-record`,
    ],
    [
      '  stages alone: decode+validate; fold (6 default rollups)',
      `${f(r.processor.stages.decodeRecordsPerSec)} rec/s; ${f(r.processor.stages.foldRecordsPerSec)} rec/s`,
      'floor',
      `${f(r.processor.stages.decodeRecordsPerSec / r.processor.floorRecordsPerSec, 2)}×; ${f(r.processor.stages.foldRecordsPerSec / r.processor.floorRecordsPerSec, 2)}× floor`,
    ],
    [
      'DynamoDB write requests (1 s window)',
      `${f((r.writes.writeRequests * 1000) / r.writes.records, 1)} per 1,000 records`,
      `naive ${f((r.writes.naiveWriteRequests * 1000) / r.writes.records, 1)} per 1,000 records`,
      `${f(r.writes.reduction, 1)}× fewer`,
    ],
    ...r.writes.scenarios
      .slice(1)
      .map((s): [string, string, string, string] => [
        `  ${s.name}`,
        `${f((s.writeRequests * 1000) / s.records, 1)} per 1,000 records`,
        `naive ${f((s.naiveWriteRequests * 1000) / s.records, 1)}`,
        `${f(s.reduction, 1)}× fewer`,
      ]),
    [
      `Pipeline end to end (local cloud, batch size ${f(r.pipeline.batchSize)})`,
      `${f(r.pipeline.recordsPerSec)} rec/s`,
      `kinesalite ingest ceiling ${f(r.pipeline.emulatorCeilingRecordsPerSec)} rec/s (read ceiling ${f(r.pipeline.emulatorReadCeilingRecordsPerSec)} rec/s)`,
      `${f(r.pipeline.ratio, 2)}× ceiling (bound with two consumers: ${f(r.pipeline.boundRatio, 2)}×)`,
    ],
    [
      'Produce → aggregate visible',
      `p50 ${f(r.pipeline.latencyMs.p50)} ms, p99 ${f(r.pipeline.latencyMs.p99)} ms`,
      '1 s poll + 1 s batching window (Lambda defaults)',
      '',
    ],
    [
      'Bytes scanned by a catalog query',
      `${f(r.scan.prunedBytes)} B (Parquet, pruned)`,
      `Parquet full scan ${f(r.scan.fullScanBytes)} B; GZIP JSON ${f(r.scan.gzipJsonBytes)} B`,
      `${f(r.scan.reductionVsJson, 1)}× less than JSON`,
    ],
    [
      'Handler peak RSS (10,000-record batch)',
      `${f(r.memory.peakRssMb)} MB`,
      `Lambda memory ${r.memory.lambdaMemoryMb} MB`,
      `${f((r.memory.peakRssMb / r.memory.lambdaMemoryMb) * 100)} % of it`,
    ],
  ];
  const head = '| measure | Shardline | baseline | ratio |\n| --- | --- | --- | --- |';
  const body = rows.map((c) => `| ${c.join(' | ')} |`).join('\n');
  const targets = r.targets.map(
    (t) => `- ${t.met ? 'met' : 'NOT met'}: ${t.name} = ${f(t.value, 2)} (target ${t.target})`,
  );
  return [head, body, '', `Writes: ${r.writes.assumptions}`, '', ...targets].join('\n');
}
