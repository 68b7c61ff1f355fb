import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { UsageError } from '../../../../common/errors.ts';
import { estimateMonthlyCost, resolveCostAssumptions } from '../../../../infra/aws/cost.ts';
import { HOURS_PER_MONTH, PRICES, SECONDS_PER_MONTH } from '../../../../infra/aws/prices.ts';

const config = resolveConfig({ stream: { shardCount: 4 } });
const line = (e: ReturnType<typeof estimateMonthlyCost>, service: string) =>
  e.lines.find((l) => l.service.startsWith(service))!;

describe('estimateMonthlyCost', () => {
  it('prices provisioned shards by the hour', () => {
    const e = estimateMonthlyCost(config, { ratePerSecond: 0 });
    expect(line(e, 'Kinesis').shardline).toBeCloseTo(4 * HOURS_PER_MONTH * PRICES.kinesis.shardHour, 2);
    expect(e.derived.invocations).toBe(0);
    expect(line(e, 'Lambda').shardline).toBe(0);
  });

  it('invokes once per second per shard when batches do not fill, and per full batch when they do', () => {
    const slow = estimateMonthlyCost(config, { ratePerSecond: 400 });
    expect(slow.derived.invocations).toBeCloseTo(4 * SECONDS_PER_MONTH, 0);
    expect(slow.derived.recordsPerInvocation).toBeCloseTo(100, 6);
    const fast = estimateMonthlyCost(config, { ratePerSecond: 20_000 });
    expect(fast.derived.recordsPerInvocation).toBeCloseTo(config.eventSource.batchSize, 6);
  });

  it('writes far less than the naive design, which writes once per record per rollup window', () => {
    const e = estimateMonthlyCost(config, { ratePerSecond: 1000 });
    const windows = config.rollups.reduce((n, r) => n + r.windows.length, 0);
    expect(e.derived.naiveWrites).toBe(1000 * SECONDS_PER_MONTH * windows);
    expect(e.derived.shardlineWrites).toBeLessThan(e.derived.naiveWrites / 4);
    expect(line(e, 'DynamoDB').naive).toBeGreaterThan(line(e, 'DynamoDB').shardline);
    expect(e.totals.naive).toBeGreaterThan(e.totals.shardline);
  });

  it('charges Flink for at least one KPU plus orchestration, and no Lambda', () => {
    const e = estimateMonthlyCost(config, { ratePerSecond: 10 });
    expect(e.derived.flinkKpus).toBe(1);
    expect(line(e, 'Managed Service for Apache Flink').flink).toBeCloseTo(
      2 * HOURS_PER_MONTH * PRICES.flink.kpuHour + 50 * PRICES.flink.storageGBMonth,
      2,
    );
    expect(line(e, 'Lambda').flink).toBe(0);
  });

  it('follows the config: more shards cost more, on-demand prices by the stream-hour and GB', () => {
    const more = estimateMonthlyCost(resolveConfig({ stream: { shardCount: 8 } }), { ratePerSecond: 100 });
    const fewer = estimateMonthlyCost(config, { ratePerSecond: 100 });
    expect(line(more, 'Kinesis').shardline).toBeGreaterThan(line(fewer, 'Kinesis').shardline);
    const od = estimateMonthlyCost(resolveConfig({ stream: { mode: 'ON_DEMAND' } }), { ratePerSecond: 0 });
    expect(line(od, 'Kinesis').shardline).toBeCloseTo(HOURS_PER_MONTH * PRICES.kinesis.onDemandStreamHour, 2);
  });

  it('rounds Firehose records up to 5 KB', () => {
    const small = estimateMonthlyCost(config, { ratePerSecond: 100, recordBytes: 100 });
    const fiveKB = estimateMonthlyCost(config, { ratePerSecond: 100, recordBytes: 5 * 1024 });
    expect(line(small, 'Data Firehose').shardline).toBeCloseTo(line(fiveKB, 'Data Firehose').shardline, 0);
  });

  it('totals its lines', () => {
    const e = estimateMonthlyCost(config, { ratePerSecond: 2500, recordBytes: 700 });
    for (const k of ['shardline', 'naive', 'flink'] as const) {
      expect(e.totals[k]).toBeCloseTo(
        e.lines.reduce((n, l) => n + l[k], 0),
        1,
      );
    }
  });
});

describe('resolveCostAssumptions', () => {
  it('applies defaults and rejects out-of-range values with the value received', () => {
    expect(resolveCostAssumptions({}).ratePerSecond).toBe(1000);
    expect(() => resolveCostAssumptions({ ratePerSecond: -1 })).toThrow(UsageError);
    expect(() => resolveCostAssumptions({ quarantineFraction: 2 })).toThrow('between 0 and 1; received 2');
  });
});
