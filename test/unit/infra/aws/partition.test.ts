import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { ConfigError } from '../../../../common/errors.ts';
import {
  formatJavaDate,
  projectionFromPrefix,
  projectionParameters,
} from '../../../../infra/aws/lib/partition.ts';

/** Athena's `${dt}` placeholder (kept out of string literals for the linter). */
const DT = ['$', '{dt}'].join('');

describe('projectionFromPrefix', () => {
  it('derives the hour projection of the default raw prefix', () => {
    expect(projectionFromPrefix(resolveConfig({}).archive.rawPrefix)).toEqual({
      basePrefix: 'raw/',
      format: 'yyyy-MM-dd-HH',
      intervalUnit: 'HOURS',
      locationTemplate: `raw/dt=${DT}/`,
    });
  });

  it('derives a day projection and nested base prefixes', () => {
    const p = projectionFromPrefix('data/raw/dt=!{timestamp:yyyy-MM-dd}/');
    expect(p).toMatchObject({
      basePrefix: 'data/raw/',
      intervalUnit: 'DAYS',
      locationTemplate: `data/raw/dt=${DT}/`,
    });
  });

  it.each([
    'raw/',
    'raw/!{timestamp:yyyy}/',
    'raw/dt=!{timestamp:yyyy-MM-dd-HH}/x/',
    'raw/dt=!{timestamp:yyyy}/dt=!{timestamp:MM}/',
    'raw/dt=!{firehose:random-string}/',
    'rawdt=!{timestamp:yyyy-MM-dd}/',
  ])('rejects %s with the prefix received', (prefix) => {
    expect(() => projectionFromPrefix(prefix)).toThrow(ConfigError);
    expect(() => projectionFromPrefix(prefix)).toThrow(JSON.stringify(prefix));
  });
});

describe('projectionParameters', () => {
  it('formats the range start in the partition format and ends at NOW', () => {
    const params = projectionParameters(
      projectionFromPrefix('raw/dt=!{timestamp:yyyy-MM-dd-HH}/'),
      'b',
      new Date(Date.UTC(2025, 2, 4, 5)),
    );
    expect(params).toEqual({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd-HH',
      'projection.dt.range': '2025-03-04-05,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'HOURS',
      'storage.location.template': `s3://b/raw/dt=${DT}/`,
    });
  });

  it('formats Java date patterns in UTC', () => {
    expect(formatJavaDate(new Date(Date.UTC(2026, 10, 22, 1)), 'yyyy-MM-dd-HH')).toBe('2026-11-22-01');
  });
});
