import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { UsageError } from '../../../../common/errors.ts';
import {
  estimateMonthlyCost,
  type MeasuredUsage,
  resolveCostAssumptions,
} from '../../../../infra/aws/cost.ts';
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

/** A measured run, per 1,000 events, with round numbers to compute expectations by hand. */
function measured(overrides: Partial<MeasuredUsage['per1000']> = {}): MeasuredUsage {
  return {
    method: 'test',
    takenAt: '2026-12-01T00:00:00.000Z',
    scenario: 'iot',
    rate: 1000,
    recordBytes: 300,
    seconds: 40,
    events: 40_000,
    shards: 1,
    memoryMiB: 512,
    per1000: {
      dynamoWriteUnits: 10,
      dynamoWriteRequests: 9,
      dynamoConditionalFailures: 0,
      dynamoReadUnits: 2,
      dynamoReadRequests: 2,
      lambdaInvocations: 0.5,
      lambdaHandlerMs: 100,
      lambdaGbSeconds: 0.2,
      kinesisRecords: 20,
      kinesisBytes: 300_000,
      kinesisPutPayloadUnits: 20,
      kinesisOnDemandBytes: 320_000,
      firehoseBilledBytes: 350_000,
      parquetBytes: 40_000,
      ...overrides,
    },
    writeUnitsBy: {},
    maxItemBytes: 900,
    meanItemBytes: 500,
    maxStateBytes: 100_000,
    groups: { 'site_telemetry#1m': 8, 'site_telemetry#1h': 8, 'device_temperature#1h': 1000 },
  };
}

describe('estimateMonthlyCost from a measured run', () => {
  const c1 = resolveConfig({ stream: { shardCount: 1 } });
  it('scales the measured units per event to the rate, at list prices', () => {
    const e = estimateMonthlyCost(c1, { ratePerSecond: 1000 }, measured());
    expect(e.basis).toBe('measured');
    const thousands = (1000 * SECONDS_PER_MONTH) / 1000;
    // DynamoDB on-demand: 10 write units and 2 read units per 1,000 events.
    expect(line(e, 'DynamoDB').shardline).toBeCloseTo(
      (thousands * 10 * 0.625 + thousands * 2 * 0.125) / 1e6,
      2,
    );
    // Lambda: 0.2 GB-s and 0.5 invocations per 1,000 events.
    expect(line(e, 'Lambda').shardline).toBeCloseTo(
      thousands * 0.2 * PRICES.lambda.arm64GBSecond + (thousands * 0.5 * 0.2) / 1e6,
      2,
    );
    // Kinesis: 1 shard-month plus 20 PUT payload units per 1,000 events.
    expect(line(e, 'Kinesis').shardline).toBeCloseTo(
      HOURS_PER_MONTH * PRICES.kinesis.shardHour + (thousands * 20 * 0.014) / 1e6,
      2,
    );
    // Firehose: measured billed bytes, ingestion and Parquet conversion.
    expect(line(e, 'Data Firehose').shardline).toBeCloseTo(
      ((thousands * 350_000) / 1e9) * (0.029 + 0.018),
      2,
    );
    // Processing: Lambda + DynamoDB beside Flink's KPUs + its window-close writes.
    expect(e.processing.shardline).toBeCloseTo(
      line(e, 'Lambda').shardline + line(e, 'DynamoDB').shardline,
      2,
    );
    expect(e.processing.flink).toBeCloseTo(
      line(e, 'Managed Service for Apache Flink').flink + line(e, 'DynamoDB').flink,
      2,
    );
    expect(e.processing.ratio).toBeCloseTo(e.processing.shardline / e.processing.flink, 3);
  });

  it("prices Flink's sink as one write per measured group per closed window", () => {
    const e = estimateMonthlyCost(c1, { ratePerSecond: 1000 }, measured());
    const perMonth = (ms: number) => (SECONDS_PER_MONTH * 1000) / ms;
    // Default rollups: only the groups measured count (8 sites per 1m and 1h, 1,000 devices per 1h).
    const writes = 8 * perMonth(60_000) + 8 * perMonth(3_600_000) + 1000 * perMonth(3_600_000);
    expect(e.derived.flinkWrites).toBeCloseTo(writes, 3);
    expect(line(e, 'DynamoDB').flink).toBeCloseTo((writes * 0.625) / 1e6, 2);
  });

  it('prices a provisioned table by capacity-hours at the target utilization, within its bounds', () => {
    const prov = resolveConfig({
      stream: { shardCount: 1 },
      table: {
        capacity: {
          mode: 'provisioned',
          writeCapacity: { min: 1, max: 100 },
          readCapacity: { min: 1, max: 100 },
          targetUtilization: 50,
        },
      },
    });
    // 10 write units per 1,000 events at 1,000 events/s = 10 WCU/s -> 20 WCU at 50 %; 2 RCU/s -> 4 RCU.
    const e = estimateMonthlyCost(prov, { ratePerSecond: 1000 }, measured());
    expect(line(e, 'DynamoDB (provisioned)').shardline).toBeCloseTo(
      HOURS_PER_MONTH * (20 * PRICES.dynamodb.provisionedWcuHour + 4 * PRICES.dynamodb.provisionedRcuHour),
      2,
    );
    // Above maxCapacity the note says requests would be throttled.
    const small = resolveConfig({
      table: { capacity: { mode: 'provisioned', writeCapacity: { min: 1, max: 5 } } },
    });
    expect(line(estimateMonthlyCost(small, {}, measured()), 'DynamoDB').note).toContain('throttled');
  });

  it('says an assumption-based estimate is one, with a processing section too', () => {
    const e = estimateMonthlyCost(c1, { ratePerSecond: 1000 });
    expect(e.basis).toBe('assumptions');
    expect(e.measured).toBeUndefined();
    expect(e.processing.flink).toBeGreaterThan(0);
  });
});
