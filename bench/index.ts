/**
 * `shardline bench`: speed and cost as ratios against baselines measured in the same process run.
 * Public surface of the bench area.
 */
import { UsageError } from '../common/errors.ts';
import { benchMemory, type MemoryResult } from './memory.ts';
import { benchPipeline, type PipelineResult } from './pipeline.ts';
import { benchProcessor, type ProcessorResult } from './processor.ts';
import { benchScan, type ScanResult } from './scan.ts';
import { BENCH_SECTIONS, type BenchSection } from './sections.ts';
import { benchWrites, type WritesResult } from './writes.ts';

export { BENCH_SECTIONS, type BenchSection } from './sections.ts';
export type { MemoryResult, PipelineResult, ProcessorResult, ScanResult, WritesResult };
export { benchMemory, benchPipeline, benchProcessor, benchScan, benchWrites };

export interface BenchReport {
  quick: boolean;
  startedAt: string;
  node: string;
  /** Each section is present when it ran (all of them unless `only` named some). */
  processor?: ProcessorResult;
  writes?: WritesResult;
  pipeline?: PipelineResult;
  scan?: ScanResult;
  memory?: MemoryResult;
  targets: { name: string; value: number; target: string; met: boolean }[];
}

export interface BenchOptions {
  /** Smaller inputs (finishes in a few minutes on 2 cores). @default false */
  readonly quick?: boolean;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** Run only these sections (at least one). @default all of {@link BENCH_SECTIONS} */
  readonly only?: readonly BenchSection[];
  /** Tiny inputs for tests of the report's shape (figures meaningless). @default false */
  readonly tiny?: boolean;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const tiny = options.tiny ?? false;
  const log = options.log ?? (() => undefined);
  const only = new Set<BenchSection>(options.only ?? BENCH_SECTIONS);
  if (only.size === 0)
    throw new UsageError(`bench: name at least one section of ${BENCH_SECTIONS.join(', ')}`);
  const report: Omit<BenchReport, 'targets'> = {
    quick,
    startedAt: new Date().toISOString(),
    node: process.version,
  };
  const targets: BenchReport['targets'] = [];
  const t = (name: string, value: number, target: string, met: boolean) =>
    targets.push({ name, value, target, met });
  if (only.has('processor')) {
    log('processor CPU...');
    const processor = await benchProcessor(
      tiny ? { batchRecords: 200, rounds: 1, repeats: 1 } : { rounds: quick ? 7 : 11 },
    );
    report.processor = processor;
    t('processor.ratioToFloor', processor.ratioToFloor, '>= 0.5', processor.ratioToFloor >= 0.5);
    t(
      'processor.speedupVsPerRecord',
      processor.speedupVsPerRecord,
      '>= 3',
      processor.speedupVsPerRecord >= 3,
    );
  }
  if (only.has('writes')) {
    log('DynamoDB writes...');
    const writes = await benchWrites(tiny ? { seconds: 2, naiveSample: 20 } : { seconds: quick ? 20 : 60 });
    report.writes = writes;
    t('writes.reduction (1 s window)', writes.reduction, '>= 20', writes.reduction >= 20);
  }
  if (only.has('pipeline')) {
    log('pipeline...');
    const pipeline = await benchPipeline(
      tiny ? { records: 200, markers: 1 } : { records: quick ? 40_000 : 150_000, markers: quick ? 10 : 30 },
    );
    report.pipeline = pipeline;
    t('pipeline.ratio', pipeline.ratio, '>= 0.8', pipeline.ratio >= 0.8);
  }
  if (only.has('scan')) {
    log('scans...');
    const scan = await benchScan(
      tiny ? { hours: 4, perHour: 50 } : { hours: quick ? 12 : 24, perHour: quick ? 2000 : 5000 },
    );
    report.scan = scan;
    t('scan.reductionVsJson', scan.reductionVsJson, '>= 10', scan.reductionVsJson >= 10);
  }
  if (only.has('memory')) {
    log('memory...');
    const memory = await benchMemory({ batchRecords: tiny ? 100 : 10_000 });
    report.memory = memory;
    t('memory.peakRssMb', memory.peakRssMb, '<= 256', memory.peakRssMb <= 256);
  }
  return { ...report, targets };
}

const f = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The markdown table printed to the terminal and kept in the README's Performance section. */
export function formatBenchMarkdown(r: BenchReport): string {
  type Row = [string, string, string, string];
  const rows: Row[] = [];
  const { processor: p, writes: w, pipeline: pl, scan: sc, memory: m } = r;
  if (p) {
    rows.push(
      [
        'Processor CPU (decode+validate+fold, 10,000-record batch)',
        `${f(p.recordsPerSec)} rec/s`,
        `floor (base64+JSON.parse) ${f(p.floorRecordsPerSec)} rec/s; Powertools per-record ${f(p.perRecordBaselineRecordsPerSec)} rec/s`,
        `${f(p.ratioToFloor, 2)}× floor; ${f(p.speedupVsPerRecord, 1)}× per-record`,
      ],
      [
        '  stages alone: decode+validate; fold (6 default rollups)',
        `${f(p.stages.decodeRecordsPerSec)} rec/s; ${f(p.stages.foldRecordsPerSec)} rec/s`,
        'floor',
        `${f(p.stages.decodeRecordsPerSec / p.floorRecordsPerSec, 2)}×; ${f(p.stages.foldRecordsPerSec / p.floorRecordsPerSec, 2)}× floor`,
      ],
    );
  }
  if (w) {
    rows.push([
      'DynamoDB write requests (1 s window)',
      `${f((w.writeRequests * 1000) / w.records, 1)} per 1,000 records`,
      `naive ${f((w.naiveWriteRequests * 1000) / w.records, 1)} per 1,000 records`,
      `${f(w.reduction, 1)}× fewer`,
    ]);
    for (const s of w.scenarios.slice(1)) {
      rows.push([
        `  ${s.name}`,
        `${f((s.writeRequests * 1000) / s.records, 1)} per 1,000 records`,
        `naive ${f((s.naiveWriteRequests * 1000) / s.records, 1)}`,
        `${f(s.reduction, 1)}× fewer`,
      ]);
    }
  }
  if (pl) {
    rows.push(
      [
        `Pipeline end to end (local cloud, batch size ${f(pl.batchSize)})`,
        `${f(pl.recordsPerSec)} rec/s`,
        `kinesalite ingest ceiling ${f(pl.emulatorCeilingRecordsPerSec)} rec/s (read ceiling ${f(pl.emulatorReadCeilingRecordsPerSec)} rec/s)`,
        `${f(pl.ratio, 2)}× ceiling (bound with two consumers: ${f(pl.boundRatio, 2)}×)`,
      ],
      [
        'Produce → aggregate visible',
        `p50 ${f(pl.latencyMs.p50)} ms, p99 ${f(pl.latencyMs.p99)} ms`,
        '1 s poll + 1 s batching window (Lambda defaults)',
        '',
      ],
    );
  }
  if (sc) {
    rows.push([
      'Bytes scanned by a catalog query',
      `${f(sc.prunedBytes)} B (Parquet, pruned)`,
      `Parquet full scan ${f(sc.fullScanBytes)} B; GZIP JSON ${f(sc.gzipJsonBytes)} B`,
      `${f(sc.reductionVsJson, 1)}× less than JSON`,
    ]);
  }
  if (m) {
    rows.push([
      `Handler peak RSS (${f(m.batchRecords)}-record batch)`,
      `${f(m.peakRssMb)} MB`,
      `target: fits a ${m.lambdaMemoryMb} MB Lambda`,
      `${f((m.peakRssMb / m.lambdaMemoryMb) * 100)} % of it`,
    ]);
  }
  const head = '| measure | Shardline | baseline | ratio |\n| --- | --- | --- | --- |';
  const body = rows.map((c) => `| ${c.join(' | ')} |`).join('\n');
  const targets = r.targets.map(
    (t) => `- ${t.met ? 'met' : 'NOT met'}: ${t.name} = ${f(t.value, 2)} (target ${t.target})`,
  );
  const notes = w ? ['', `Writes: ${w.assumptions}`] : [];
  return [head, body, ...notes, '', ...targets].join('\n');
}
