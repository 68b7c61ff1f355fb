import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';

describe('resolveConfig', () => {
  it('applies every default once', () => {
    const c = resolveConfig();
    expect(c.stream).toEqual({
      name: 'shardline-events',
      shardCount: 4,
      mode: 'PROVISIONED',
      retentionHours: 24,
    });
    expect(c.eventSource).toMatchObject({
      batchSize: 500,
      maximumBatchingWindowInSeconds: 1,
      startingPosition: 'TRIM_HORIZON',
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10,
      maximumRecordAgeInSeconds: -1,
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
    });
    expect(c.archive.format).toBe('parquet');
    expect(c.rollups.map((r) => r.name)).toEqual([
      'site_telemetry',
      'device_temperature',
      'events_by_type',
      'temperature_quantiles',
      'active_devices',
      'page_visitors',
    ]);
    expect(c.rollups[2]!.stats).toEqual(['count']);
    expect(c.rollups[0]!.stats).toEqual(['count', 'sum', 'min', 'max']);
  });

  it('takes an alarm email and an existing topic ARN, and says what is wrong with bad ones', () => {
    expect(resolveConfig().alarms).toEqual({});
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
    expect(resolveConfig({ alarms: { email: 'ops@example.com', topicArn } }).alarms).toEqual({
      email: 'ops@example.com',
      topicArn,
    });
    expect(() => resolveConfig({ alarms: { email: 'ops' } })).toThrow(
      /alarms\.email: must be an email address; received "ops"/,
    );
    expect(() => resolveConfig({ alarms: { topicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' } })).toThrow(
      /alarms\.topicArn: must be an SNS topic ARN.*received "arn:aws:sqs/,
    );
  });

  it('keeps what the user set', () => {
    const c = resolveConfig({ stream: { shardCount: 2 }, eventSource: { batchSize: 100 } });
    expect(c.stream.shardCount).toBe(2);
    expect(c.eventSource.batchSize).toBe(100);
    expect(c.eventSource.maximumBatchingWindowInSeconds).toBe(1);
  });

  it.each([
    [{ eventSource: { batchSize: 0 } }, 'eventSource.batchSize: must be between 1 and 10000; received 0'],
    [{ eventSource: { maximumRecordAgeInSeconds: 30 } }, 'must be -1 or between 60 and 604800; received 30'],
    [{ stream: { retentionHours: 23 } }, 'stream.retentionHours: must be between 24 and 8760; received 23'],
    [
      { rollups: [{ name: 'a', windows: ['2m'] }] },
      'rollups[0].windows[0]: must be one of 1m, 5m, 15m, 1h, 1d; received "2m"',
    ],
    [{ rollups: [{ name: 'a' }, { name: 'a' }] }, 'duplicate rollup name "a"'],
    [{ rollups: [{ name: 'a', by: ['site'] }] }, 'must be source, type or dims.<name>; received "site"'],
    [{ archive: { bufferSizeMiB: 5 } }, 'Firehose Parquet conversion needs at least 64; received 5'],
    [
      { eventSource: { parallelizationFactor: 2 } },
      'must be 1: exact rollups fence writes by a per-shard watermark',
    ],
    [{ eventSource: { startingPosition: 'AT_TIMESTAMP' } }, 'required when startingPosition is AT_TIMESTAMP'],
    [{ bogus: 1 }, 'bogus'],
  ])('rejects %j with a message naming the value', (input, message) => {
    expect(() => resolveConfig(input as never)).toThrow(ConfigError);
    expect(() => resolveConfig(input as never)).toThrow(message);
  });

  it('accepts json archives with small buffers', () => {
    expect(resolveConfig({ archive: { format: 'json', bufferSizeMiB: 1 } }).archive.bufferSizeMiB).toBe(1);
  });
});

describe('sketch statistics', () => {
  it('accepts quantiles and distinct counts and lists them', async () => {
    const { distinctFieldsOf, quantileStats } = await import('../../../common/config.ts');
    const c = resolveConfig({
      rollups: [
        { name: 'lat', metrics: ['latency'], stats: ['count', 'p50', 'p99', 'p99.9'] },
        { name: 'devices', stats: ['count', 'distinct:source', 'distinct:dims.site'] },
      ],
    });
    expect(quantileStats(c.rollups[0]!.stats)).toEqual([
      ['p50', 0.5],
      ['p99', 0.99],
      ['p99.9', 0.999],
    ]);
    expect(distinctFieldsOf(c.rollups[1]!.stats)).toEqual(['source', 'dims.site']);
  });

  it.each([
    [['p101'], 'a quantile like p50'],
    [['distinct:site'], 'distinct:<source|type|eventId|dims.name>'],
  ])('rejects %j', (stats, message) => {
    expect(() => resolveConfig({ rollups: [{ name: 'x', metrics: ['m'], stats }] })).toThrow(message);
  });

  it('rejects quantiles on a rollup without metrics', () => {
    expect(() => resolveConfig({ rollups: [{ name: 'x', stats: ['p99'] }] })).toThrow('can only count');
  });
});
