import { describe, expect, it } from 'vitest';
import { BENCH_SECTIONS, type BenchSection, formatBenchMarkdown, runBench } from '../../../bench/index.ts';

describe('shardline bench', () => {
  it('writes every key of the report on tiny inputs', async () => {
    const report = await runBench({ tiny: true });
    const r = {
      processor: report.processor!,
      writes: report.writes!,
      pipeline: report.pipeline!,
      scan: report.scan!,
      memory: report.memory!,
    };
    expect(report.targets.map((t) => t.name.split(/[. ]/)[0])).toEqual([
      'processor',
      'processor',
      'writes',
      'pipeline',
      'scan',
      'memory',
    ]);
    const num = (x: unknown) => expect(typeof x === 'number' && Number.isFinite(x)).toBe(true);
    for (const k of [
      'recordsPerSec',
      'floorRecordsPerSec',
      'ratioToFloor',
      'perRecordBaselineRecordsPerSec',
      'speedupVsPerRecord',
    ] as const)
      num(r.processor[k]);
    num(r.processor.stages.decodeRecordsPerSec);
    num(r.processor.stages.foldRecordsPerSec);
    for (const k of ['records', 'writeRequests', 'naiveWriteRequests', 'reduction'] as const)
      num(r.writes[k]);
    expect(r.writes.writeRequests).toBeGreaterThan(0);
    expect(r.writes.naiveWriteRequests).toBeGreaterThan(r.writes.writeRequests);
    for (const k of [
      'recordsPerSec',
      'emulatorCeilingRecordsPerSec',
      'ratio',
      'emulatorReadCeilingRecordsPerSec',
      'boundRatio',
    ] as const)
      num(r.pipeline[k]);
    // The pipeline ran on emulator threads, and the bound is a ratio below 1 (three passes vs one).
    expect(r.pipeline.emulatorThreads).toBe(true);
    expect(r.pipeline.boundRatio).toBeGreaterThan(0);
    expect(r.pipeline.boundRatio).toBeLessThan(1);
    num(r.pipeline.latencyMs.p50);
    num(r.pipeline.latencyMs.p99);
    for (const k of ['prunedBytes', 'fullScanBytes', 'gzipJsonBytes', 'reductionVsJson'] as const)
      num(r.scan[k]);
    expect(r.scan.fullScanBytes).toBeGreaterThanOrEqual(r.scan.prunedBytes);
    num(r.memory.peakRssMb);
    expect(r.memory.peakRssMb).toBeGreaterThan(0);
    expect(formatBenchMarkdown(report)).toContain('| measure |');
  }, 120_000);

  it('runs only the sections named, and reports and tabulates only those', async () => {
    const report = await runBench({ tiny: true, only: ['scan', 'memory'] });
    expect(Object.keys(report).filter((k) => BENCH_SECTIONS.includes(k as BenchSection))).toEqual([
      'scan',
      'memory',
    ]);
    expect(report.targets.map((t) => t.name)).toEqual(['scan.reductionVsJson', 'memory.peakRssMb']);
    const table = formatBenchMarkdown(report);
    expect(table).toContain('Bytes scanned');
    expect(table).not.toContain('Processor CPU');
    await expect(runBench({ tiny: true, only: [] })).rejects.toThrow(/at least one section/);
  }, 60_000);
});
