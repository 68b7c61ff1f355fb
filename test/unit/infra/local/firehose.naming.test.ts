import { describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS } from '../../../../common/envelope.ts';
import { intervalDue, planAppend } from '../../../../infra/local/firehose/buffer.ts';
import { formatConversionErrorRecord, recordConverter } from '../../../../infra/local/firehose/convert.ts';
import { FirehoseConfigError } from '../../../../infra/local/firehose/errors.ts';
import {
  evaluatePrefix,
  objectKey,
  parsePrefix,
  randomString,
} from '../../../../infra/local/firehose/naming.ts';

const T = Date.UTC(2026, 10, 22, 1, 45, 12, 345); // 2026-11-22T01:45:12.345Z
const enc = (s: string) => new TextEncoder().encode(s);

describe('prefix evaluation', () => {
  it('evaluates timestamp patterns in UTC with the oldest arrival time', () => {
    const p = parsePrefix('raw/dt=!{timestamp:yyyy-MM-dd-HH}/', 'data');
    expect(evaluatePrefix(p, { arrivalMs: T })).toBe('raw/dt=2026-11-22-01/');
  });

  it('supports quoted literals and every supported letter', () => {
    const p = parsePrefix("x/!{timestamp:yyyy'-'MM'/d='dd}/!{timestamp:HH:mm:ss}/", 'data');
    expect(evaluatePrefix(p, { arrivalMs: T })).toBe('x/2026-11/d=22/01:45:12/');
  });

  it('inserts the error output type and random strings', () => {
    const p = parsePrefix('errors/!{firehose:error-output-type}/!{firehose:random-string}/', 'error');
    expect(
      evaluatePrefix(p, {
        arrivalMs: T,
        errorOutputType: 'format-conversion-failed',
        random: () => 'abcdefghijk',
      }),
    ).toBe('errors/format-conversion-failed/abcdefghijk/');
    expect(randomString()).toMatch(/^[A-Za-z0-9]{11}$/);
  });

  it('applies the default time prefix to empty and static prefixes', () => {
    expect(evaluatePrefix(parsePrefix('', 'data'), { arrivalMs: T })).toBe('2026/11/22/01/');
    expect(evaluatePrefix(parsePrefix('static/', 'data'), { arrivalMs: T })).toBe('static/2026/11/22/01/');
    expect(
      evaluatePrefix(parsePrefix('', 'error'), { arrivalMs: T, errorOutputType: 'format-conversion-failed' }),
    ).toBe('format-conversion-failed/2026/11/22/01/');
  });

  it('rejects unsupported expressions with the value received', () => {
    expect(() => parsePrefix('a/!{firehose:error-output-type}/', 'data')).toThrow(
      /only allowed in an error output prefix/,
    );
    expect(() => parsePrefix('a/!{partitionKeyFromQuery:x}/', 'data')).toThrow(FirehoseConfigError);
    expect(() => parsePrefix('a/!{timestamp:YYYY}/', 'data')).toThrow(/received "YYYY"/);
    expect(() => parsePrefix("a/!{timestamp:'yyyy}/", 'data')).toThrow(/unterminated quote/);
    expect(() => parsePrefix('a/!{nocolon}/', 'data')).toThrow(/unterminated/);
  });

  it('names objects <prefix><stream>-1-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>', () => {
    const key = objectKey({
      prefix: parsePrefix('raw/dt=!{timestamp:yyyy-MM-dd-HH}/', 'data'),
      deliveryStreamName: 'shardline-archive',
      arrivalMs: T,
      extension: '.parquet',
      uuid: () => '11111111-2222-3333-4444-555555555555',
    });
    expect(key).toBe(
      'raw/dt=2026-11-22-01/shardline-archive-1-2026-11-22-01-45-12-11111111-2222-3333-4444-555555555555.parquet',
    );
    const real = objectKey({
      prefix: parsePrefix('q/', 'data'),
      deliveryStreamName: 's',
      arrivalMs: T,
      extension: '',
    });
    expect(real).toMatch(/^q\/2026\/11\/22\/01\/s-1-2026-11-22-01-45-12-[0-9a-f-]{36}$/);
  });
});

describe('buffering decisions', () => {
  const hints = { sizeMiB: 1, intervalSeconds: 60 };
  const MiB = 1024 * 1024;

  it('closes a buffer when a record reaches the size hint', () => {
    expect(planAppend({ count: 3, bytes: MiB - 10, openedAtMs: 0 }, 10, hints)).toEqual({
      closeBefore: false,
      closeAfter: true,
    });
    expect(planAppend({ count: 3, bytes: MiB - 10, openedAtMs: 0 }, 9, hints)).toEqual({
      closeBefore: false,
      closeAfter: false,
    });
  });

  it('closes the buffer first when a record would overflow it, never an empty one', () => {
    expect(planAppend({ count: 1, bytes: MiB - 10, openedAtMs: 0 }, 100, hints)).toEqual({
      closeBefore: true,
      closeAfter: false,
    });
    expect(planAppend({ count: 0, bytes: 0, openedAtMs: null }, 2 * MiB, hints)).toEqual({
      closeBefore: false,
      closeAfter: true,
    });
  });

  it('is due by interval counted from the first record', () => {
    expect(intervalDue({ count: 0, bytes: 0, openedAtMs: null }, hints, 1e12)).toBe(false);
    expect(intervalDue({ count: 1, bytes: 1, openedAtMs: 1000 }, hints, 60_999)).toBe(false);
    expect(intervalDue({ count: 1, bytes: 1, openedAtMs: 1000 }, hints, 61_000)).toBe(true);
    expect(
      intervalDue({ count: 1, bytes: 1, openedAtMs: 1000 }, { sizeMiB: 1, intervalSeconds: 0 }, 1000),
    ).toBe(true);
  });
});

describe('record format conversion (OpenX JSON SerDe rules)', () => {
  const converter = recordConverter(ARCHIVE_COLUMNS);

  it('maps keys case-insensitively, fills missing fields with NULL and drops unknown ones', () => {
    const result = converter.convert(
      enc('{"V":1,"EventId":"e1","ts":"2026-11-22T01:45:12.345Z","metrics":{"Temp":1.5},"extra":true}'),
    );
    expect(result).toEqual({
      ok: true,
      row: { v: 1, eventid: 'e1', source: null, type: null, ts: T, metrics: { Temp: 1.5 }, dims: null },
    });
  });

  it('reads epoch milliseconds, epoch seconds and zone-less ISO timestamps as UTC', () => {
    const ts = (value: unknown) => {
      const r = converter.convert(enc(JSON.stringify({ ts: value })));
      return r.ok ? r.row.ts : r.errorMessage;
    };
    expect(ts(T)).toBe(T);
    expect(ts(T / 1000)).toBe(T);
    expect(ts('2026-11-22 01:45:12.345')).toBe(T);
    expect(ts('2026-11-22T02:45:12.345+01:00')).toBe(T);
  });

  it('fails records that are not JSON objects or do not fit the column types', () => {
    for (const bad of [
      'not json',
      '[1,2]',
      '42',
      '{"ts":"yesterday"}',
      '{"metrics":{"t":"hot"}}',
      '{"v":1.5}',
      '{"dims":[1]}',
    ]) {
      const r = converter.convert(enc(bad));
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.errorCode).toBe('DataFormatConversion.MalformedData');
    }
    const invalidUtf8 = converter.convert(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(invalidUtf8.ok).toBe(false);
  });

  it('builds error records in Firehose shape', () => {
    const rec = formatConversionErrorRecord({
      data: enc('x'),
      arrivalMs: 5,
      attemptEndingMs: 6,
      sequenceNumber: '49',
      subSequenceNumber: null,
      errorCode: 'DataFormatConversion.MalformedData',
      errorMessage: 'bad',
      table: {
        catalogId: null,
        databaseName: 'd',
        tableName: 't',
        region: 'r',
        versionId: 'LATEST',
        roleArn: 'a',
      },
    });
    expect(Object.keys(rec)).toEqual([
      'attemptsMade',
      'arrivalTimestamp',
      'lastErrorCode',
      'lastErrorMessage',
      'attemptEndingTimestamp',
      'rawData',
      'sequenceNumber',
      'subSequenceNumber',
      'dataCatalogTable',
    ]);
    expect(rec.rawData).toBe('eA==');
  });
});
