/**
 * `shardline cost --measure`: a short real run of the local pipeline on the repository's config, then the
 * estimate from it; without --measure the saved run is used, and said to be.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'shardline-cost-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

interface Estimate {
  basis: string;
  measured: { events: number; per1000: Record<string, number>; method: string };
  processing: { shardline: number; flink: number; ratio: number };
}

describe('shardline cost --measure', () => {
  it('meters a short local run, prints measured figures and the processing ratio, and saves them', async () => {
    const io = capture();
    const code = await main([
      'node',
      'shardline',
      'cost',
      '--measure',
      '--rate',
      '300',
      '--seconds',
      '5',
      '--data-dir',
      dataDir,
      '--json',
    ]);
    expect(code).toBe(0);
    const e = JSON.parse(io.out()) as Estimate;
    expect(e.basis).toBe('measured');
    expect(e.measured.events).toBe(1500);
    // Every event reached DynamoDB through some write, Kinesis through KPL aggregates (far fewer records).
    expect(e.measured.per1000.dynamoWriteUnits).toBeGreaterThan(0);
    expect(e.measured.per1000.kinesisRecords).toBeLessThan(1000);
    expect(e.measured.per1000.lambdaInvocations).toBeGreaterThan(0);
    expect(e.measured.per1000.parquetBytes).toBeGreaterThan(0);
    expect(e.processing.ratio).toBeCloseTo(e.processing.shardline / e.processing.flink, 2);
    expect(io.err()).toMatch(/measure: \d+s\/5s/);
    // Later estimates use the saved run, and say so.
    const again = capture();
    expect(await main(['node', 'shardline', 'cost', '--data-dir', dataDir, '--json'])).toBe(0);
    expect((JSON.parse(again.out()) as Estimate).basis).toBe('measured');
    expect(again.err()).toContain('Using the measured run of');
  }, 120_000);
});
